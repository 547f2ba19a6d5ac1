# posdesk: English texts (translation of the Chinese ones).
# Message ids and arguments follow docs/messages.md; output is Telegram HTML (b, i and code tags only).

## General

menu-welcome =
    Hello, I'm the { $brand } merchant support assistant. I can help you:
    • answer common questions
    • unbind your settlement card
    • check the progress of an unbinding request
    • put you in touch with our support team
    🔒 Verification codes are only ever sent to the phone registered for your merchant account, and only you should enter them, here in this chat. Anyone who calls, texts or messages you asking for a code or a card password is a scammer. This assistant never sends links.

menu-prompt = Is there anything else I can help with? Pick an option below or just type your question.

help =
    Commands:
    /unbind unbind your settlement card
    /status check the progress of an unbinding request
    /faq common questions
    /human contact our support team
    /cancel stop what you're doing
    /lang change language
    /start back to the main menu
    You can also just describe your problem in your own words.

faq-menu = Common questions: please pick a topic.

unknown =
    Sorry, I didn't quite understand that, or it's something I can't help with here.
    As the { $brand } merchant support assistant, I can answer common questions about unbinding, unbind your settlement card and check the progress of your request.
    If you'd like, tap below to contact our support team.

unknown-again = It looks like I still can't help with this, so I'll put you in touch with our support team.

clarify-question = Did you mean "{ $first }" or "{ $second }"? Tap one and I'll take it from there.

btn-clarify-none = Neither, contact support

also-asked = You also asked about "{ $topic }":

## Small talk: thanks, OK, goodbye, "are you a bot", insults

chat-thanks = You're welcome! Message me any time if anything else comes up.

chat-ack = OK. If you need anything else, just let me know.

chat-goodbye = Goodbye, and all the best with your business! I'm here whenever you need me.

chat-thanks-in-flow = You're welcome!

chat-ack-in-flow = OK.

chat-goodbye-in-flow = OK. Your unbinding isn't finished yet: you can carry on, or tap "Cancel" to stop.

chat-bot =
    I'm { $brand }'s automated assistant: I answer common questions, unbind settlement cards and check the progress of requests.
    To talk to a member of our support team, tap "Contact support".

chat-abuse =
    I'm sorry this has been frustrating. Tell me what went wrong and I'll do my best to sort it out.
    You can also contact our support team right away.

chat-abuse-handoff = Let me pass you to our support team.

## POS questions out of scope: name the topic, our support team handles it

outside-topic = Questions about "{ $topic }" are handled by our support team; I can't deal with them here. Tap below to pass your question on, and they'll see what it's about.

outside-terminal-or-card = When you say unbinding, do you mean your settlement card (the bank card your takings are paid into) or your terminal (the POS machine)? I can unbind the settlement card right here; unbinding, moving or transferring a terminal is handled by our support team.

btn-outside-human = Pass it to support

topic-terminal = Unbinding, moving or transferring a terminal
topic-settlement-timing = When settlement payouts arrive
topic-fees = Fees and rates
topic-deposit = Terminal deposits
topic-terminal-fault = Terminal faults
topic-licence = Changes to licence, legal representative or shop details
topic-close-account = Closing the merchant account
topic-refund = Refunds
topic-invoice = Invoices
topic-personal-card = A frozen personal bank card

lang-choose = Please choose a language.

lang-written = You wrote in English, so I'll reply in English. To change the language, send /lang or tap below.
lang-set = Done. I'll reply in English from now on.

media-unsupported = For now I can only read text messages, not photos, voice messages or files. Please describe your problem in words, or contact our support team.

text-too-long = That message is a bit long: I can read up to { $max } characters. Please shorten it or split it into several messages.

edited-message = I can't process edited messages again. If something has changed, please just send a new message.

cancel-done = OK, I've stopped that.

cancel-nothing = There's nothing to cancel right now.

error-internal = Sorry, something went wrong on our side. Please try again in a moment; if it keeps happening, send /human to contact our support team.

flood-notice = You're sending messages a little fast. Please wait a moment before continuing.

callback-expired = This button is no longer active. Please start again.

sensitive-card-number =
    To keep your money safe, I deleted your last message because it looked like a card number.
    Please don't send full card numbers in chat. Unbinding only needs your merchant number; to say which card you mean, its last four digits are enough.

sensitive-password =
    Please note: { $brand } staff and this assistant will never ask for your card PIN or password, or ask you to forward a verification code to anyone.
    Anyone who asks for these is a scammer pretending to be support.

sensitive-password-deleted =
    To keep your account safe, I deleted your last message because it contained a password.
    { $brand } staff and this assistant will never ask for your password; please don't share it with anyone.

sensitive-code =
    That looked like a verification code, so I deleted it to be safe.
    Only enter a code while verifying an unbinding, and never send it to anyone, including our support team.
    If it was a different number (your card's last four digits, an amount), send it with a few words and it will be kept, for example "last four 0123".

## Buttons

btn-unbind = Unbind settlement card
btn-faq = Common questions
btn-status = Check progress
btn-human = Contact support
btn-menu = Main menu
btn-cancel = Cancel
btn-confirm = Details correct, continue
btn-submit = Submit request
btn-resend = Resend code
btn-unbind-with = Unbind with this number
btn-lang-zh = 中文
btn-lang-en = English
btn-faq-verification-failed = Code not received or not working
btn-faq-unbind-stuck = Unbinding slow or stuck
btn-faq-new-account-inactive = New settlement account not active
btn-faq-payout-missing = Settlement money not received
btn-faq-unbind-prepare = Before you unbind
btn-faq-unbind-limits = Limits and opening hours
btn-faq-security = Staying safe from scams
btn-faq-after-unbind = After unbinding
btn-faq-unbind-cost = Does unbinding cost anything?
btn-faq-card-frozen = Settlement card frozen or lost
btn-faq-new-card-check-failed = New card fails the bank check
btn-faq-request-rejected = Why was my request rejected?
btn-faq-cancel-request = Withdraw a request
btn-faq-bind-new-account = Binding a new card
btn-faq-new-card-requirements = New card requirements
btn-faq-merchant-number = Finding your merchant number
btn-rate-1 = ⭐ 1
btn-rate-2 = ⭐⭐ 2
btn-rate-3 = ⭐⭐⭐ 3
btn-rate-4 = ⭐⭐⭐⭐ 4
btn-rate-5 = ⭐⭐⭐⭐⭐ 5
btn-claim = Claim
btn-close = Close ticket

faq-unbind-cost =
    Unbinding your settlement card is free: no fee, no deposit, and no transfer to any account.
    It's done only here: no app to install, no screen sharing, no link to click.
    Anyone who asks you to pay, transfer money or give them a code "for unbinding" is a scammer pretending to be { $brand }. Hang up or block them.

faq-card-frozen =
    If your settlement card is frozen, closed or reported lost, your payouts may not reach you, so act soon:
    1. Tap "Unbind settlement card" to release this card first
    2. Have a new card that works ready to bind once the unbinding is done
    3. Tap "Contact support" and tell us what happened to the card; our support team will prioritise any payouts that couldn't be made
    Your bank can tell you why the card was frozen.

faq-new-card-check-failed =
    When a new card is bound, the bank checks four things: the holder's name, ID number, card number, and the phone number the bank has on file. If any one of them doesn't match, binding fails.
    • The name and ID must match the business owner (or legal representative) registered with us
    • The phone number is the one you gave the bank when you opened the account; if you've changed numbers, update it with the bank first
    • Check the card number digit by digit; the card must be an active debit card
    If everything matches and it still fails, please contact our support team.

faq-request-rejected =
    Common reasons a request is rejected:
    • The limit was reached, or it was submitted during the hours when unbinding is paused
    • Another request is already in progress
    • The details don't match our records, or the account has been flagged for review
    The rejection notice gives the reason. If it doesn't, or it isn't clear, contact our support team and they'll go through your request with you.

faq-cancel-request =
    Once submitted, a request goes for review and can't be withdrawn here.
    To withdraw it, contact our support team as soon as possible and give them the reference number (send /status to see it); as long as it hasn't been completed, they can cancel it for you.

faq-bind-new-account =
    I can only unbind your old card here; the new card is bound elsewhere.
    Once the unbinding is complete, bind your new settlement card in the { $brand } merchant app, or ask your account manager for help. If you're not sure where to do it, contact our support team.
    Check the new card requirements first so that the bank's check doesn't fail.

faq-new-card-requirements =
    The new settlement card usually has to be:
    • For a sole trader: a debit card in the business owner's own name (credit cards can't be used)
    • For a company: the company's business account; whether a personal account is allowed depends on your contract
    • Active, with the holder's name, ID number, card number and the phone number held by the bank all matching your registration
    Your contract has the final say; if you're unsure, please contact our support team.

faq-merchant-number =
    You can find your merchant number:
    • On every sales slip (card receipt), printed as "Merchant No.", usually 15 digits
    • In the merchant app, under your profile or merchant details
    • In the documents you received when you signed up
    Once you have it, tap "Unbind settlement card" and send it to me; it looks like <code>{ $example }</code>.

## FAQ answers

faq-unbind-prepare =
    Before you unbind, have these ready:
    • the bank and last four digits of your current settlement card
    • the new account's holder name, account number and bank branch
    • the phone registered for your merchant account, to receive the verification code
    It's best to wait until any pending payouts have arrived, so none of them end up on the old card.
    If { $brand } needs an ID or face check, our support team will help you with it (/human).
    When you're ready, tap "Unbind settlement card" or send /unbind.

faq-verification-failed =
    If your code doesn't arrive or doesn't work, it's usually one of these:
    • The text hasn't arrived: texts are sometimes late or filtered as spam; after { $resend_seconds ->
        [one] 1 second
       *[other] { $resend_seconds } seconds
    } you can tap "Resend code" at the verification step; also make sure the registered phone number is still in use
    • Wrong code: check the text and enter it again
    • Expired code (a code is valid for { $code_minutes ->
        [one] 1 minute
       *[other] { $code_minutes } minutes
    }): tap "Resend code" for a new one
    • After { $max_attempts ->
        [one] 1 wrong code
       *[other] { $max_attempts } wrong codes
    } in a row, code entry is locked for { $lock_minutes ->
        [one] 1 minute
       *[other] { $lock_minutes } minutes
    }; try again after that
    Every wrong code counts as a failed attempt, so type carefully.
    If your phone number has changed or it keeps failing, send /human to contact our support team.

faq-unbind-stuck =
    Unbinding requests are normally processed within { $sla_hours ->
        [one] 1 hour
       *[other] { $sla_hours } hours
    }.
    • Send /status to see where your request stands
    • If the screen froze while you were submitting, it's usually a brief network problem: just try again shortly
    • Still processing after { $sla_hours ->
        [one] 1 hour
       *[other] { $sla_hours } hours
    }? Send /human and our support team will follow it up

faq-new-account-inactive =
    New settlement account not active yet? Check these in order:
    1. Send /status and make sure the old card's unbinding is completed: the new account only takes effect once the old one is released
    2. Check the new account's holder name, account number and bank branch
    3. Once it's active, check that the next payout arrives as expected
    If all of that is fine and it's still not active, send /human and our support team will sort it out.

faq-payout-missing =
    Settlement money hasn't arrived? First: did you change your settlement card recently?
    • Yes: payouts go to the new account once the old card is released and the new one is active; tap "New settlement account not active" below for what to check
    • No: our support team looks into the payment and when it arrives; tap "Contact support"
    To look into a payment we only need your merchant number. Please never send a password, a code or your full card number.

faq-unbind-limits =
    To keep your money safe, unbinding has some limits:
    • At most { $max_unbinds ->
        [one] once
       *[other] { $max_unbinds } times
    } { $period_days ->
        [one] a day
       *[other] every { $period_days } days
    }
    • { $blackout ->
        [none] No paused hours at the moment: you can apply any time
       *[other] Unbinding is paused every day between { $blackout } ({ $timezone })
    }
    • Too many wrong codes in a row lock code entry for a while
    Requests outside these limits are refused. If you have special circumstances, send /human to contact our support team.

faq-security =
    Please keep in mind:
    • { $brand } staff and this assistant will never ask for your card PIN, password or full card number
    • Enter the verification code yourself, only in this chat, and never forward it to anyone
    • Unbinding or changing the card costs nothing and needs no deposit or transfer; anyone asking you to move money to a "safe account", share your screen, install an app or open a link is a scammer
    • Anyone who asks for a password or code is a scammer pretending to be support: stop replying to them
    • Already given a code or password away? Change the password now, call your bank, and send /human to let us know
    • Check your login records and transaction history regularly; if anything looks wrong, send /human

faq-after-unbind =
    Once the unbinding is done, we suggest you:
    1. Confirm the new settlement account is active
    2. Update your merchant details and your bank and tax information
    3. Watch the next few payouts and transactions
    4. Review your login records and transaction history regularly
    5. Keep the confirmation and the reference number
    If anything looks wrong, send /human to contact our support team.

## Unbinding

unbind-intro =
    OK, let's unbind your settlement card.
    Please send your merchant number and I'll text a verification code to the phone registered for it.
    You'll never need to give a card number or password, and you can tap "Cancel" at any time.

unbind-offer-with = That looks like your merchant number, <code>{ $merchant_id }</code>. Would you like to use it to unbind your settlement card? Tap "Unbind with this number" and I'll text a verification code to the phone registered for it, or pick something else below.

unbind-merchant-id-invalid = I couldn't recognise that as a merchant number. Please check it and send it again; it looks like <code>{ $example }</code>.

unbind-where-merchant-id =
    Your merchant number is printed on every POS sales slip (receipt), labelled "Merchant No.": usually 15 digits, sometimes letters and digits.
    No slip to hand? It's also in the onboarding documents from your acquirer, or in your merchant portal.
    Once you have it, just send it here.

unbind-code-sent =
    I've sent a verification code to the registered phone { $phone }. It's valid for { $minutes ->
        [one] 1 minute
       *[other] { $minutes } minutes
    }.
    Please enter the { $digits }-digit code here.
    The code is only for this check. Nobody, not even our support team, will ever ask you for it, so don't share it.

unbind-code-send-failed = Sorry, the text couldn't be sent just now; this attempt doesn't count. Please tap "Resend code" again in a moment.

unbind-code-maybe-lost = Sorry, our system was interrupted just now, so your code may not have been sent, and any earlier code no longer works. This attempt doesn't count: tap "Resend code" to get a new one.

unbind-code-format = Please enter the { $digits }-digit code. If it hasn't arrived, tap "Resend code".

unbind-code-wrong = That code isn't right. You have { $attempts_left ->
        [one] 1 attempt
       *[other] { $attempts_left } attempts
    } left; please check the text and try again.

unbind-code-expired = That code has expired. Tap "Resend code" to get a new one.

unbind-code-locked =
    You've entered a wrong code { $max_attempts ->
        [one] once
       *[other] { $max_attempts } times in a row
    }, so to protect your account, code entry for this merchant number is locked until { $until } (about { $minutes ->
        [one] 1 minute
       *[other] { $minutes } minutes
    }).
    Nothing has been submitted and your settlement card hasn't changed.
    After that time, send /unbind to start again; if it's urgent, tap "Contact support" and our support team will help you.

unbind-resend-wait = A code was sent just now. Texts are sometimes a little late; please also check whether your phone has filtered it as spam. You can ask for a new one in { $seconds ->
        [one] 1 second
       *[other] { $seconds } seconds
    }.

unbind-send-limit = You've reached the limit on codes for now. Please try again in { $minutes ->
        [one] 1 minute
       *[other] { $minutes } minutes
    }, or contact our support team if it's urgent.

unbind-summary =
    <b>Please check the details</b>
    Merchant name: { $merchant_name }
    Merchant number: { $merchant_id }
    Settlement bank: { $bank }
    Settlement card: { $card }

    Once it's unbound:
    • payouts will no longer go to this card
    • payouts already on their way may still arrive on it
    • you'll need to bind a new settlement account afterwards; it only takes effect once this card is released

    If everything is correct, tap "Details correct, continue".

unbind-final-confirm =
    <b>Final check</b>: unbind the settlement card { $card }?
    Once it's submitted, you can't withdraw it yourself; only our support team can. Tap "Submit request" to go ahead.

unbind-refused-limit = Unbinding isn't possible right now: the limit is { $max_unbinds ->
        [one] once
       *[other] { $max_unbinds } times
    } { $period_days ->
        [one] a day
       *[other] every { $period_days } days
    } and you've reached it. You can apply again from { $next_date }. If you have special circumstances, please contact our support team.

unbind-refused-blackout = Unbinding is paused every day between { $window } ({ $timezone }). Please try again after { $next_time }.

unbind-refused-pending = You already have an unbinding request in progress, <code>{ $reference }</code>. You can make a new one once it's finished; send /status to check on it.

unbind-refused-locked = To protect your account, code entry for this merchant number is locked for now. Please try again after { $until }, or contact our support team if you need help.

unbind-submitted =
    Your unbinding request has been submitted.
    Reference: <code>{ $reference }</code>
    Submitted: { $time }
    We'll process it within { $sla_hours ->
        [one] 1 hour
       *[other] { $sla_hours } hours
    } and let you know the result here. Please keep the reference number; you can send /status at any time to check progress.

unbind-not-started = All right, we won't unbind anything: nothing will change on your settlement card. If you've already submitted a request and want to withdraw it, tap "Contact support"; whenever you need to unbind later, just send /unbind.
unbind-stop-confirm = Stop this unbinding? Tap "Stop" and nothing will change on your settlement card. To carry on, just continue where you left off (for example, enter the code).
btn-stop-unbind = Stop

unbind-phone-changed =
    Codes are only sent to the phone number registered for the merchant. If that number isn't yours any more or is no longer in service, it has to be changed first, and our support team does that after verifying your identity.
    Tap "Contact support" and explain; you can cancel this unbinding for now and come back once the number has been changed.

unbind-cancelled = Unbinding cancelled. Nothing has changed on your settlement card.

unbind-stopped-for-human = OK, I've stopped this unbinding: nothing was submitted and your settlement card hasn't changed. Our support team will take it from here; to do it yourself later, just send /unbind to start again.

unbind-flow-expired = There was no activity for { $minutes ->
        [one] 1 minute
       *[other] { $minutes } minutes
    }, so this session has ended. Send /unbind to start again whenever you're ready.

unbind-reminder-merchant-id = Let's carry on with your unbinding: send your merchant number (the "Merchant No." on a sales slip), or tap "Cancel".

unbind-reminder-code = Let's carry on with your unbinding: enter the code from the text here; if it hasn't arrived, tap "Resend code".

unbind-reminder-confirm = Please use the buttons below to confirm, or tap "Cancel" to stop this unbinding.

## Requests and status

status-need-verify = Before I can show your requests, I need to verify your identity. Please send your merchant number and I'll text a code to the phone registered for it.

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
    }. Sorry for the wait. Tap the button below and our support team will follow it up.

request-status-submitted = Submitted
request-status-processing = Processing
request-status-completed = Completed
request-status-rejected = Not approved
request-status-cancelled = Cancelled

notify-processing = Your unbinding request <code>{ $reference }</code> is now being processed. We'll let you know as soon as it's done.

notify-completed =
    Your unbinding request <code>{ $reference }</code> is complete: your old settlement card has been released.
    Next, bind your new settlement account and keep an eye on your next few payouts.

notify-rejected =
    Sorry, your unbinding request <code>{ $reference }</code> was not approved. Payouts will still go to your current settlement card.
    { $reason ->
        [none] No specific reason was given. If you have any questions, our support team can help.
       *[other] Reason: { $reason }
    }

notify-cancelled =
    Your unbinding request <code>{ $reference }</code> has been cancelled. Your settlement card stays as it was.
    { $reason ->
        [none] No specific reason was given. If you have any questions, our support team can help.
       *[other] Reason: { $reason }
    }


## Handoff (merchant side)

handoff-opened =
    I've passed you to our support team. You're number { $position } in the queue.
    Describe your problem here and a member of the team will reply in this chat. Please don't send passwords or codes.

handoff-on-duty = Our support team is available now; someone usually replies within a few minutes.

handoff-off-hours = Our support team is offline right now (opening hours: { $hours }). Your messages are kept, and someone will reply after we open at { $next_open }.

handoff-already-open = Your request to talk to our support team is already in the queue; you're number { $position }. Feel free to add details here in the meantime.

handoff-no-staff-chat =
    We've noted that you'd like to talk to our support team, but they can't be reached from this chat right now.
    How to reach us: { $contact }
    In the meantime, you can still ask me questions here, and I will help as far as I can.

handoff-contact-default = Our support team will call you on the phone number registered for your merchant account. A genuine support call never asks for a code, a card password or a full card number, and never asks you to transfer money, install an app or open a link: if a caller does, hang up.

handoff-waiting = Please hold on while a member of our support team joins. Everything you send here goes to them.

handoff-waiting-help =
    You're waiting for our support team; they'll reply right here.
    • Anything to add? Just send it here and they'll see it
    • No longer need help? Send /cancel
    • In the meantime, you can browse the common questions

handoff-unbind-later = You're waiting for our support team, so you can't unbind at the same time. Tell them here what you need, or send /cancel first if you'd rather do it yourself.

handoff-status-needs-verify = To check progress, your merchant number has to be verified first. Send it here and our support team will look it up, or send /cancel and check it yourself.

handoff-claimed = Support agent { $agent } has joined and will help you from here.

handoff-closed =
    This support conversation has ended. Thank you for your patience.
    If you have a moment, please rate our service:

handoff-rating-thanks = Thanks for your rating ({ $rating ->
        [one] 1 star
       *[other] { $rating } stars
    }). If you'd like to add a comment, just reply with a few words.

handoff-comment-thanks = Thank you for your feedback; we'll use it to improve.

handoff-withdrawn = Your request to talk to our support team has been withdrawn. If there's anything else, pick an option below.

handoff-cannot-withdraw = A member of our support team is already working on this, so the request can't be withdrawn. They'll close the conversation once it's resolved.

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

reason-user-request = asked for support
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

blocked-notice = Sorry, your account can't use this service at the moment. If you have any questions, please call our official support line.

staff-ticket-asked-again = The merchant asked for support again: ticket #{ $ticket } is open again and waiting for an agent.

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
