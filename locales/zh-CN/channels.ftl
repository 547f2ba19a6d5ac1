# Texts of the channels: the terminal (posdesk chat) and the Telegram command menu.

console-demo-banner =
    演示模式：使用临时数据库，不连接 Telegram。
    示例商户编号：{ $merchants }
    验证码会以“模拟短信”直接显示在屏幕上。输入数字可点选按钮，/help 查看命令，Ctrl+D 退出。
console-banner = 已连接到 { $database }。输入数字可点选按钮，/help 查看命令，Ctrl+D 退出。
console-sms = 📱 模拟短信 → { $phone }：验证码 { $code }，{ $minutes } 分钟内有效。
console-toast = （{ $text }）
console-choice-invalid = 没有这个选项，{ $max ->
        [1] 输入 1 即可点这个按钮。
       *[other] 请输入 1 到 { $max } 之间的数字。
    }
console-error = 抱歉，处理这条消息时出错了，请稍后再试。
console-bye = 再见！

# Telegram command menu (setMyCommands).
cmd-start = 主菜单
cmd-unbind = 解绑结算卡
cmd-status = 查询解绑进度
cmd-faq = 常见问题
cmd-human = 联系人工客服
cmd-cancel = 退出当前操作
cmd-lang = 切换语言 / Language
cmd-help = 使用帮助
