//! End-to-end tests: the real bot against a fake Bot API and a fake SMS
//! gateway on 127.0.0.1, on a real SQLite file.

mod backends;
mod fake_bot_api;
mod helpers;
mod sms_gateway;

mod catalogue;
mod console;
mod faq_catalogue;
mod foundation;
mod handoff;
mod intents;
mod leaks;
mod operations;
mod order;
mod properties;
mod reliability;
mod scale;
mod staff_desk;
mod staff_load;
mod storage;
mod unbind;
