# posdesk: English texts (translation of the Chinese ones).
# Message ids and arguments follow docs/messages.md; output is Telegram HTML (b, i and code tags only).

## General

menu-welcome =
    Hello, I'm the { $brand } merchant support assistant. I can help you:
    • answer common questions
    • unbind your settlement card
    • check the progress of an unbinding request
    • reach a person
    🔒 Codes go only to the merchant's registered phone, and only you type them, here. Anyone who calls, texts or messages you for a code or a card password is a scammer; this assistant never sends links.

menu-prompt = Anything else I can do for you? Pick an option below or just type your question.

help =
    Commands:
    /unbind unbind your settlement card
    /status check unbinding progress
    /faq common questions
    /human talk to a person
    /cancel leave the current step
    /lang change language
    /start back to the main menu
    You can also just describe your problem in a sentence.

faq-menu = Common questions: pick a topic.

unknown =
    Sorry, I didn't quite get that, or it's something I can't handle here.
    As the { $brand } merchant support assistant, I can answer common questions about unbinding, unbind your settlement card and check your request's progress.
    If you'd like, tap the button below to talk to a person.

unknown-again = Looks like I still can't help with this, so let me get a person for you.

clarify-question = Did you mean "{ $first }" or "{ $second }"? Tap one and I'll carry on.

btn-clarify-none = Neither: talk to a person

also-asked = You also asked about "{ $topic }":

## Small talk: thanks, OK, goodbye, "are you a bot", insults

chat-thanks = You're welcome! Message me any time if anything else comes up.

chat-ack = OK. If you need anything else, just tell me.

chat-goodbye = Goodbye, and good business to you! I'm here whenever you need me.

chat-thanks-in-flow = You're welcome!

chat-ack-in-flow = OK.

chat-goodbye-in-flow = OK. The unbinding isn't finished yet: you can carry on, or tap "Cancel" to stop.

chat-bot =
    I'm { $brand }'s self-service assistant: I answer common questions, unbind settlement cards and look up requests.
    If you'd like a person, tap "Talk to a person".

chat-abuse =
    I'm sorry this has been frustrating. Tell me what went wrong and I'll do my best to sort it out,
    or ask for a person right away.

chat-abuse-handoff = Let me pass you to a person.

## POS questions out of scope: name the topic, a person handles it

outside-topic = { $topic } is something a person from support has to handle; I can't do it here. Tap below to pass it to them, and they'll see what you asked about.

outside-terminal-or-card = By unbinding, do you mean the settlement card (the bank card your takings go to) or the terminal (POS machine)? I can unbind the settlement card right here; unbinding, moving or handing over a terminal is done by a person from support.

btn-outside-human = Pass it to a person

topic-terminal = Unbinding, moving or handing over a terminal
topic-settlement-timing = When settlement money arrives
topic-fees = Fees and rates
topic-deposit = Terminal deposits
topic-terminal-fault = A terminal that doesn't work
topic-licence = Licence, legal person or shop details changes
topic-close-account = Closing the merchant account
topic-refund = Refunds
topic-invoice = Invoices
topic-personal-card = A personal bank card frozen by the bank

lang-choose = Please choose your language.

lang-written = You wrote in English, so I'll reply in English. To change language, send /lang or tap below.
lang-set = Done. I'll talk to you in English from now on.

media-unsupported = I can only read text messages for now, not photos, voice messages or files. Please describe your problem in words, or ask for a person.

text-too-long = That message is a bit long: I can read up to { $max } characters. Please shorten it or split it into a few messages.

edited-message = I don't go back over edited messages. If something changed, please just send a new message.

cancel-done = OK, I've stopped that.

cancel-nothing = There's nothing to cancel right now.

error-internal = Sorry, something went wrong on our side. Please try again in a moment; if it keeps happening, send /human to reach a person.

flood-notice = You're sending messages a little fast. Please wait a moment before continuing.

callback-expired = This button has expired. Please start again.

sensitive-card-number =
    To keep your money safe, I deleted your last message because it looked like a card number.
    Please don't send full card numbers in chat. Unbinding only needs your merchant number; to say which card you mean, its last four digits are enough.

sensitive-password =
    Please note: { $brand } staff and this bot will never ask for your card PIN or password, or ask you to forward a verification code to anyone.
    Anyone who asks for these is a scammer posing as support.

sensitive-password-deleted =
    To keep your account safe, I deleted your last message because it contained a password.
    { $brand } staff and this bot will never ask for your password; please don't share it with anyone.

sensitive-code =
    That looked like a verification code, so I deleted it to be safe.
    Only enter codes while verifying an unbinding, and never send them to anyone, support staff included.
    If it was another number (your card's last four digits, an amount), send it with a few words and it stays, for example "last four 0123".

## Buttons

btn-unbind = Unbind settlement card
btn-faq = Common questions
btn-status = Check progress
btn-human = Talk to a person
btn-menu = Main menu
btn-cancel = Cancel
btn-confirm = Correct, continue
btn-submit = Submit request
btn-resend = Resend code
btn-unbind-with = Unbind with this number
btn-lang-zh = 中文
btn-lang-en = English
btn-faq-verification-failed = Verification failed
btn-faq-unbind-stuck = Unbinding slow or stuck
btn-faq-new-account-inactive = New account not active
btn-faq-unbind-prepare = Before you unbind
btn-faq-unbind-limits = Limits and time windows
btn-faq-security = Staying safe
btn-faq-after-unbind = After unbinding
btn-faq-unbind-cost = Does unbinding cost anything?
btn-faq-card-frozen = Card frozen or lost
btn-faq-new-card-check-failed = New card fails the check
btn-faq-request-rejected = Why was it rejected?
btn-faq-cancel-request = Withdraw a request
btn-faq-bind-new-account = Binding the new card
btn-faq-new-card-requirements = New card requirements
btn-faq-merchant-number = Finding the merchant number
btn-rate-1 = ⭐ 1
btn-rate-2 = ⭐⭐ 2
btn-rate-3 = ⭐⭐⭐ 3
btn-rate-4 = ⭐⭐⭐⭐ 4
btn-rate-5 = ⭐⭐⭐⭐⭐ 5
btn-claim = Claim
btn-close = Close ticket

faq-unbind-cost =
    Unbinding your settlement card is free: no fee, no deposit, and no transfer to any account.
    It is done only here: no app to install, no screen sharing, no link to click.
    Anyone who asks you to pay, transfer money or give them a code "for unbinding" is pretending to be { $brand }. Hang up or block them.

faq-card-frozen =
    If your settlement card is frozen, closed or reported lost, payouts may not reach you, so act soon:
    1. Tap "Unbind settlement card" to release this card first
    2. Have a working new card ready to bind once unbinding is done
    3. Tap "Talk to a person" and describe what happened to the card; support will follow up on payouts that could not be made
    Your card's bank can tell you why it was frozen.

faq-new-card-check-failed =
    When a new card is bound, the bank checks four things: the holder's name, ID number, card number, and the phone number the bank has on file. If any one differs, binding fails.
    • The name and ID must match the business owner (or legal representative) registered with us
    • The phone number is the one you gave the bank when opening the card; if you changed numbers, update it at the bank first
    • Check the card number digit by digit; the card must be an active debit card
    If everything matches and it still fails, ask for a person.

faq-request-rejected =
    Common reasons a request is rejected:
    • The limit was reached, or it was submitted during paused hours
    • Another request is already in progress
    • The details don't match what is registered, or the account has a risk flag
    The rejection notice gives the reason. If it doesn't, or it isn't clear, ask for a person: support will look at your request with you.

faq-cancel-request =
    Once submitted, a request goes to review and can't be withdrawn here.
    To withdraw it, ask for a person soon and give the reference (send /status to see it); while it isn't finished, support can cancel it for you.

faq-bind-new-account =
    I only unbind the old card here; the new card is bound elsewhere.
    Once unbinding is complete, bind the new settlement card in the { $brand } merchant app, or ask your account manager. If you're not sure where, ask for a person.
    Check the new card's requirements first so the bank's check doesn't fail.

faq-new-card-requirements =
    The new settlement card usually has to be:
    • For an individual business: a debit card in the owner's own name (credit cards can't be used)
    • For a company: the company's business account; whether a personal account is allowed depends on your contract
    • Active, with the holder's name, ID number, card number and bank phone number all matching your registration
    Your contract has the final word; ask for a person if you're unsure.

faq-merchant-number =
    You can find your merchant number:
    • On every sales slip (card receipt), printed as "Merchant No.", usually 15 digits
    • In the merchant app, under your profile or merchant details
    • In the papers you received when you signed up
    Once you have it, tap "Unbind settlement card" and send it to me; it looks like <code>{ $example }</code>.

## FAQ answers

faq-unbind-prepare =
    Before you unbind, have these ready:
    • the bank and last four digits of your current settlement card
    • the new account's holder name, account number and bank branch
    • the phone number registered for your merchant account, for the verification code
    It's best to wait until pending payouts have arrived, so none land on the old card.
    If { $brand } needs an ID or face check, a person will help you with it (/human).
    When you're ready, tap "Unbind settlement card" or send /unbind.

faq-verification-failed =
    A code that doesn't arrive or doesn't work usually comes down to one of these:
    • No text message: texts are sometimes late or filtered as spam; after { $resend_seconds ->
        [one] 1 second
       *[other] { $resend_seconds } seconds
    } you can tap "Resend code" in the verification step; make sure the registered phone number is still in use
    • Wrong code: check the text message and enter it again
    • Expired code (a code is valid for { $code_minutes ->
        [one] 1 minute
       *[other] { $code_minutes } minutes
    }): tap "Resend code" for a new one
    • After { $max_attempts ->
        [one] 1 wrong try
       *[other] { $max_attempts } wrong tries
    } in a row, verification locks for { $lock_minutes ->
        [one] 1 minute
       *[other] { $lock_minutes } minutes
    }; try again after that
    Every wrong code counts as a failed attempt, so type carefully.
    If your phone number has changed or it keeps failing, send /human to reach a person.

faq-unbind-stuck =
    Unbinding requests are normally processed within { $sla_hours ->
        [one] 1 hour
       *[other] { $sla_hours } hours
    }.
    • Send /status to see where your request stands
    • If the screen froze while you were submitting, it's usually a network hiccup: just try again shortly
    • Still processing after { $sla_hours ->
        [one] 1 hour
       *[other] { $sla_hours } hours
    }? Send /human and a person will follow it up

faq-new-account-inactive =
    New settlement account not active yet? Check these in order:
    1. Send /status and make sure the old card's unbinding is completed: the new account only takes effect once the old one is released
    2. Check the new account's holder name, account number and bank branch
    3. Once it's active, watch that the next payout arrives as expected
    If all of that is fine and it's still not active, send /human and a person will sort it out.

faq-unbind-limits =
    To keep your money safe, unbinding is limited:
    • At most { $max_unbinds ->
        [one] once
       *[other] { $max_unbinds } times
    } { $period_days ->
        [one] a day
       *[other] every { $period_days } days
    }
    • { $blackout ->
        [none] No paused hours at the moment: you can apply any time
       *[other] No unbinding daily between { $blackout } ({ $timezone })
    }
    • Too many wrong codes in a row lock verification for a while
    Requests beyond these limits are refused. If your case is special, send /human to reach a person.

faq-security =
    Please keep in mind:
    • { $brand } staff and this bot will never ask for your card PIN, password or full card number
    • Enter the verification code yourself, only in this chat, and never forward it to anyone
    • Unbinding or changing the card costs nothing and needs no deposit or transfer; anyone asking you to move money to a "safe account", share your screen, install an app or open a link is a scammer
    • Anyone who asks for a password or code is a scammer posing as support: stop replying to them
    • Already gave a code or password away? Change the password now, call your card's bank, and send /human to tell us
    • Check your login records and transaction history regularly; if anything looks wrong, send /human

faq-after-unbind =
    Once the unbinding is done, we suggest you:
    1. Confirm the new settlement account is active
    2. Update your merchant details and your bank and tax information
    3. Watch the next few payouts and transactions
    4. Review your login records and transaction history regularly
    5. Keep the confirmation and the reference number
    If anything looks wrong, send /human to reach a person.

## Unbinding

unbind-intro =
    OK, let's unbind your settlement card.
    Please send your merchant number and I'll text a verification code to the phone number registered for it.
    You'll never need to give a card number or password, and you can tap "Cancel" at any time.

unbind-offer-with = That looks like your merchant number, <code>{ $merchant_id }</code>. Would you like to unbind your settlement card with it? Tap "Unbind with this number" and I'll text a verification code to the phone number registered for it, or pick something else below.

unbind-merchant-id-invalid = I couldn't recognise that as a merchant number. Please check it and send it again; it looks like <code>{ $example }</code>.

unbind-where-merchant-id =
    Your merchant number is printed on every POS sales slip (receipt), labelled "Merchant No.": usually 15 digits, sometimes a letter and digits.
    No slip at hand? It's also in the account papers from your acquirer or in your merchant portal.
    Once you have it, just send it here.

unbind-code-sent =
    A verification code has been sent to the registered phone { $phone }. It's valid for { $minutes ->
        [one] 1 minute
       *[other] { $minutes } minutes
    }.
    Please enter the { $digits }-digit code here.
    The code is only for this check. Nobody, support staff included, will ever ask you for it, so don't share it.

unbind-code-send-failed = Sorry, the text message couldn't be sent just now, and this try doesn't count. Please tap "Resend code" again in a moment.

unbind-code-maybe-lost = Sorry, our system was interrupted just now, so your code may not have been sent, and any code from that try no longer works. This try doesn't count: tap "Resend code" to get a new one.

unbind-code-format = Please enter the { $digits }-digit code. If it hasn't arrived, tap "Resend code".

unbind-code-wrong = That code isn't right. You have { $attempts_left ->
        [one] 1 attempt
       *[other] { $attempts_left } attempts
    } left; please check the text message and try again.

unbind-code-expired = That code has expired. Tap "Resend code" to get a new one.

unbind-code-locked =
    A wrong code was entered { $max_attempts ->
        [one] once
       *[other] { $max_attempts } times in a row
    }, so to protect your account, code entry for this merchant number is locked until { $until } (about { $minutes ->
        [one] 1 minute
       *[other] { $minutes } minutes
    }).
    Nothing has been submitted and your settlement card hasn't changed.
    After that time, send /unbind to start again; if it's urgent, tap "Talk to a person" and our support team will help.

unbind-resend-wait = A code was sent just now. Texts are sometimes a little late; please also check whether your phone filtered it as spam. You can ask for a new one in { $seconds ->
        [one] 1 second
       *[other] { $seconds } seconds
    }.

unbind-send-limit = We've sent as many codes as allowed for now. Please try again in { $minutes ->
        [one] 1 minute
       *[other] { $minutes } minutes
    }, or ask for a person if it's urgent.

unbind-summary =
    <b>Please check the details</b>
    Merchant name: { $merchant_name }
    Merchant number: { $merchant_id }
    Bank: { $bank }
    Settlement card: { $card }

    What unbinding means:
    • payouts will no longer go to this card
    • payouts already on their way may still arrive on it
    • you'll need to bind a new settlement account afterwards; it takes effect only once this card is released

    If everything is correct, tap "Correct, continue".

unbind-final-confirm =
    <b>Final check</b>: unbind the settlement card { $card }?
    Once submitted, you can't withdraw it yourself; only a person can. Tap "Submit request" to go ahead.

unbind-refused-limit = Unbinding isn't possible right now: the limit is { $max_unbinds ->
        [one] once
       *[other] { $max_unbinds } times
    } { $period_days ->
        [one] a day
       *[other] every { $period_days } days
    } and you've reached it. You can apply again from { $next_date }. If your case is special, please ask for a person.

unbind-refused-blackout = Unbinding is paused every day between { $window } ({ $timezone }). Please try again after { $next_time }.

unbind-refused-pending = You already have an unbinding request, <code>{ $reference }</code>, in progress. A new one can be made once it's finished; send /status to follow it.

unbind-refused-locked = To protect your account, verification for this merchant is locked for now. Please try again after { $until }, or ask for a person if you need help.

unbind-submitted =
    Your unbinding request has been submitted.
    Reference: <code>{ $reference }</code>
    Submitted: { $time }
    We'll process it within { $sla_hours ->
        [one] 1 hour
       *[other] { $sla_hours } hours
    } and let you know the result here. Keep the reference; you can send /status any time to check progress.

unbind-not-started = All right, no unbinding: nothing changes on your settlement card. If you already submitted a request and want to withdraw it, tap "Talk to a person"; send /unbind whenever you need it later.
unbind-stop-confirm = Stop this unbinding? Tap "Stop" and nothing changes on your settlement card. To carry on, just continue with the last step.
btn-stop-unbind = Stop

unbind-phone-changed =
    Codes only go to the phone number registered for the merchant. If that number isn't yours any more or is out of service, it has to be changed first, and a person does that after checking who you are.
    Tap "Talk to a person" and explain; you can cancel this unbinding for now and come back once the number is changed.

unbind-cancelled = Unbinding cancelled. Nothing has changed on your settlement card.

unbind-stopped-for-human = OK, I've stopped this unbinding: nothing was submitted and your settlement card hasn't changed. Our support team will take it from here; if you'd like to do it yourself later, just send /unbind to start again.

unbind-flow-expired = Nothing happened for { $minutes ->
        [one] 1 minute
       *[other] { $minutes } minutes
    }, so this process has ended. Send /unbind to start again whenever you're ready.

unbind-reminder-merchant-id = Let's carry on with the unbinding: send your merchant number (the "Merchant No." on a sales slip), or tap "Cancel".

unbind-reminder-code = Let's carry on with the unbinding: enter the code from the text message here; if it hasn't come, tap "Resend code".

unbind-reminder-confirm = Please use the buttons below to confirm, or tap "Cancel" to stop this unbinding.

## Requests and status

status-need-verify = To show your requests I first need to verify you. Please send your merchant number and I'll text a code to the phone number registered for it.

status-stopped-for-human = OK, I've stopped the progress check; our support team will take it from here. To check it yourself later, just send /status.

status-none = There are no unbinding requests for merchant { $merchant_id }.

status-header = <b>Unbinding requests for merchant { $merchant_id }</b>

status-line = • <code>{ $reference }</code> · { $status } · submitted { $submitted } ({ $age_days ->
        [0] { $age_hours } h
       *[other] { $age_days } d { $age_hours } h
    } ago)

status-overdue = Request <code>{ $reference }</code> has taken longer than { $sla_hours ->
        [one] 1 hour
       *[other] { $sla_hours } hours
    }. Sorry for the wait. Tap the button below and a person will follow it up.

request-status-submitted = Submitted
request-status-processing = Processing
request-status-completed = Completed
request-status-rejected = Not approved
request-status-cancelled = Cancelled

notify-processing = Your unbinding request <code>{ $reference }</code> is now being processed. We'll let you know as soon as it's done.

notify-completed =
    Your unbinding request <code>{ $reference }</code> is complete: the old settlement card has been released.
    Next, bind your new settlement account and keep an eye on the next payouts.

notify-rejected =
    Sorry, your unbinding request <code>{ $reference }</code> was not approved. Payouts still go to your current card.
    { $reason ->
        [none] No specific reason was given. If you have questions, a person can help.
       *[other] Reason: { $reason }
    }

notify-cancelled =
    Your unbinding request <code>{ $reference }</code> has been cancelled. Your settlement card stays as it was.
    { $reason ->
        [none] No specific reason was given. If you have questions, a person can help.
       *[other] Reason: { $reason }
    }


## Handoff (merchant side)

handoff-opened =
    I've passed you to our support team. You're number { $position } in the queue.
    Describe your problem here and an agent will reply in this chat. Please don't send passwords or codes.

handoff-on-duty = Support is on duty now; someone usually replies within a few minutes.

handoff-off-hours = Support is offline right now (hours: { $hours }). Your messages are kept, and an agent should reply after we open at { $next_open }.

handoff-already-open = Your request for a person is already in the queue; you're number { $position }. Feel free to add details here in the meantime.

handoff-no-staff-chat =
    Your request for a person is noted, but support can't be reached from this chat right now.
    How to reach us: { $contact }
    Meanwhile you can still ask me questions or unbind here.

handoff-contact-default = support will call you on the merchant's registered phone number. A real support call never asks for a code, a card password or a full card number, and never asks you to transfer money, install an app or open a link: if a caller does, hang up.

handoff-waiting = Please hold on while an agent joins. Everything you send here goes to them.

handoff-waiting-help =
    You're waiting for a person; they'll reply right here.
    • Anything to add? Just send it here, they'll see it
    • No longer needed? Send /cancel
    • Meanwhile you can browse the common questions

handoff-unbind-later = You're waiting for a person, so unbinding can't run at the same time. Tell them here what you need, or send /cancel first if you'd rather do it yourself.

handoff-status-needs-verify = Checking progress needs your merchant number verified first. Send it here and the person will look it up, or send /cancel and check it yourself.

handoff-claimed = { $agent } from support has joined and will help you here.

handoff-closed =
    This support conversation is closed. Thanks for your patience.
    If you have a moment, please rate it:

handoff-rating-thanks = Thanks for your rating ({ $rating ->
        [one] 1 star
       *[other] { $rating } stars
    }). If you'd like to add a comment, just reply with a sentence.

handoff-comment-thanks = Thanks, we've got your feedback and will use it to improve.

handoff-withdrawn = Your request for a person has been withdrawn. If there's anything else, pick an option below.

handoff-cannot-withdraw = An agent is already working on this, so the request can't be withdrawn. They'll close the conversation once it's resolved.

reply-signature = Support agent { $agent }:

## Handoff (staff side)

staff-relay-part =
    <b>{ $name }</b> at { $time }:
    { $text }

staff-ticket-claimed = Ticket #{ $ticket } claimed by { $agent }.

staff-ticket-closed = Ticket #{ $ticket } closed by { $agent }.

staff-ticket-withdrawn = Ticket #{ $ticket } withdrawn by the merchant.

staff-ticket-rated = Ticket #{ $ticket } rated { $rating }/5.

staff-ticket-comment = Ticket #{ $ticket }, merchant's comment: { $comment }

staff-not-staff = Support staff only.

staff-tickets-header = <b>Open tickets: { $count }</b>

staff-tickets-line = #{ $ticket } · { $reason } · { $assignee } · waiting { $age_minutes } min

staff-tickets-none = No open tickets.

staff-reminder = ⏰ Ticket #{ $ticket } has waited { $minutes } min and is still unclaimed.

staff-merchant-edited =
    The merchant edited a message:
    Original: { $original }
    Edited: { $edited }

staff-unassigned = unassigned

staff-not-in-ticket = There's no open ticket here (it may be closed).

reason-user-request = asked for a person
reason-code-locked = locked after wrong codes
reason-request-rejected = request not approved
reason-request-overdue = request overdue
reason-unknown-twice = not understood twice
reason-urgent = marked urgent

## Staff desk (card, buttons and commands in ticket topics)

ticket-status-open = waiting
ticket-status-claimed = in progress
ticket-status-closed = closed
ticket-status-withdrawn = withdrawn by the merchant

staff-topic-waiting = 🟡 { $who } · { $reason } · waiting
staff-topic-claimed = 🔵 { $who } · { $reason } · { $agent }
staff-topic-closed = ⚪ { $who } · { $reason } · closed

staff-ticket-already-yours = Ticket #{ $ticket } is already yours.
staff-ticket-not-claimed = Nobody has claimed ticket #{ $ticket } yet.
staff-ticket-unclaimed = { $agent } handed ticket #{ $ticket } back; it waits for someone else.
staff-ticket-assigned = { $agent } assigned ticket #{ $ticket } to { $to }.
staff-assign-not-staff = Tickets can only go to staff members.
staff-assign-how = Reply to your colleague's message with /assign, or write /assign and their user id.
staff-ticket-ended = Ticket #{ $ticket } has ended; /reopen it to carry on.
staff-ticket-reopened = { $agent } reopened ticket #{ $ticket } and took it.
staff-ticket-still-active = Ticket #{ $ticket } is still active; there is nothing to reopen.
staff-reopen-other-active = This merchant has another active ticket, so #{ $ticket } cannot be reopened now.
staff-unlocked = Ticket #{ $ticket }: { $agent } unlocked code entry for merchant { $merchant }.
staff-unlock-no-merchant = This ticket's merchant has not been verified, so there is nothing to unlock.
staff-faq-list = Canned answers for ticket #{ $ticket }; one tap sends it to the merchant, signed by you:
staff-canned-sent = Ticket #{ $ticket }: { $agent } sent the canned answer "{ $faq }".
staff-blocked = Ticket #{ $ticket }: { $agent } blocked this user. Reason: { $reason }
staff-block-needs-reason = Please give a reason, e.g. /block repeated abuse
staff-unblocked = Ticket #{ $ticket }: { $agent } unblocked this user.
staff-reject-ask = { $agent }, reply to this message with the reason for rejecting request <code>{ $reference }</code> (the merchant will see it).
staff-request-updated = Request { $reference } is now "{ $status }"; the merchant was told.
staff-request-unchanged = Request { $reference } is already "{ $status }".
staff-request-not-allowed = Request { $reference } is "{ $status }" and cannot change to that.
staff-request-not-found = There is no request { $reference }.

staff-request-reason-too-long = That reason is too long: keep it within { $max } characters, or the merchant's notice cannot be delivered. Please reply with a shorter one.
staff-unknown-command = There is no { $command } command. Send /help to see what works.
staff-needs-topic = This command works in a ticket's topic. Send /help for the details.
staff-help =
    <b>Staff desk</b>
    One topic per ticket; its pinned card stays up to date. In a ticket's topic:
    any message — a reply to the merchant (the first one claims the ticket)
    #note … — an internal note the merchant never sees
    /claim · /unclaim · /assign to a colleague
    /close · /reopen
    /info the fresh card · /faq canned answers
    /unlock lift the code-entry lock
    /block reason · /unblock
    Anywhere: /tickets open tickets · /help this text

staff-cmd-info = Ticket card (fresh)
staff-cmd-faq = Canned answers
staff-cmd-claim = Claim the ticket
staff-cmd-unclaim = Hand the ticket back
staff-cmd-assign = Assign to a colleague
staff-cmd-close = Close the ticket
staff-cmd-reopen = Reopen the ticket
staff-cmd-unlock = Unlock code entry
staff-cmd-block = Block the user (with a reason)
staff-cmd-unblock = Unblock the user
staff-cmd-tickets = Open tickets
staff-cmd-stats = Support statistics
staff-cmd-help = How this works

btn-unclaim = Hand back
btn-reopen = Reopen
btn-info = Refresh card
btn-unlock = Unlock codes
btn-request-processing = { $reference } processing
btn-request-completed = { $reference } completed
btn-request-rejected = { $reference } reject

card-title = <b>Ticket #{ $ticket }</b> · { $status } · { $reason }
card-user = User: { $name } (id { $id }) · { $lang }
card-lang-zh = Chinese
card-lang-en = English
card-merchant = Merchant: { $merchant } { $name } · { $bank } { $card } · phone { $phone }
card-merchant-unknown = Merchant number: { $merchant } (not registered)
card-merchant-unverified = Merchant: not verified yet
card-where = Now: { $where }
card-state-idle = at the menu (no flow in progress)
card-state-merchant-id = typing the merchant number
card-state-code = typing the verification code
card-state-confirm = checking the unbinding details
card-state-final-confirm = about to give the final confirmation
card-locked = 🔒 Code entry locked for about { $minutes } more minutes
card-blocked = ⛔ This user is blocked
card-requests-none = Unbinding requests: none
card-requests = Unbinding requests:
card-request = • <code>{ $reference }</code> { $status }
card-earlier = Earlier tickets:
card-earlier-line = • #{ $ticket } { $status } { $link }
card-recent = Last messages:
card-line-button = • pressed: { $button }
card-line-command = • sent { $command }
card-line-media = • sent a { $media }
card-line-text = • wrote: { $text }
card-media-photo = photo
card-media-document = file
card-media-voice = voice message
card-media-video = video
card-media-sticker = sticker
card-media-other = message of another kind
card-button-rating = a rating
card-button-other = another button

notify-codes-unlocked = Our support team has unlocked code entry for you; you can ask for a new code now.

blocked-notice = Sorry, your account cannot use this service for now. If you have questions, please call our official support line.

staff-ticket-asked-again = The merchant asked for a person again: ticket #{ $ticket } is open again and waits for an agent.

staff-stats-header = <b>Support in the last { $days } days</b> (first response / resolution: median / p90)
staff-stats-all = All: { $tickets } tickets · first response { $first } · resolution { $resolution } · CSAT { $csat }
staff-stats-agent = { $agent }: { $tickets } tickets · first response { $first } · resolution { $resolution } · CSAT { $csat }

request-post-title = <b>Unbinding request <code>{ $reference }</code></b> · { $status }
request-post-created = Submitted: { $at }
request-post-reason = Reason: { $reason }

card-line-code = • typed a number (maybe a code; hidden)

## Times and lists

list-separator = {"; "}
zone-beijing = Beijing time
hours-span = { $days } { $from }–{ $to }
hours-days = { $first }–{ $last }
day-mon = Mon
day-tue = Tue
day-wed = Wed
day-thu = Thu
day-fri = Fri
day-sat = Sat
day-sun = Sun
