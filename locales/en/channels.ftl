# Texts of the channels: the terminal (posdesk chat) and the Telegram command menu.

console-demo-banner =
    Demo mode: a temporary database, no Telegram connection.
    Sample merchant numbers: { $merchants }
    One-time codes appear on screen as a "simulated SMS". Type a number to press a button, /help for commands, Ctrl+D to quit.
console-banner = Connected to { $database }. Type a number to press a button, /help for commands, Ctrl+D to quit.
console-sms = 📱 Simulated SMS to { $phone }: code { $code }, valid for { $minutes } minutes.
console-toast = ({ $text })
console-choice-invalid = There is no such option; { $max ->
        [1] type 1 to press the button.
       *[other] type a number from 1 to { $max }.
    }
console-error = Sorry, something went wrong with that message. Please try again shortly.
console-bye = Goodbye!

# Telegram command menu (setMyCommands).
cmd-start = Main menu
cmd-unbind = Unbind your settlement card
cmd-status = Check unbinding progress
cmd-faq = Common questions
cmd-human = Contact our support team
cmd-cancel = Stop what you're doing
cmd-lang = Language / 切换语言
cmd-help = Help
