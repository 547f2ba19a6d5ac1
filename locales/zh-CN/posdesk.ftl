# posdesk：简体中文文案（主语言）。
# 消息 id 与参数以 docs/messages.md 为准；输出为 Telegram HTML，只用 <b>、<i>、<code>。

## 通用

menu-welcome =
    您好，我是 { $brand } 的商户服务助手。我可以帮您：
    • 解答常见问题
    • 解绑结算卡
    • 查询解绑申请进度
    • 转接人工客服
    🔒 验证码只发到商户登记的手机上，只能由您本人在这里输入。任何人打电话、发短信或私信向您要验证码、银行卡密码，都是诈骗；本助手也不会发送任何链接。

menu-prompt = 还有什么可以帮您？请在下方选择，或直接输入您的问题。

help =
    可用的命令：
    /unbind 解绑结算卡
    /status 查询解绑进度
    /faq 常见问题
    /human 联系人工客服
    /cancel 退出当前操作
    /lang 切换语言
    /start 回到主菜单
    也可以直接用一句话描述您的问题。

faq-menu = 常见问题：请选择您想了解的内容。

unknown =
    抱歉，我没太明白您的意思，或者这个问题超出了我能处理的范围。
    作为 { $brand } 的商户服务助手，我可以帮您解答解绑相关的常见问题、办理结算卡解绑、查询申请进度。
    需要的话，点下方按钮转人工客服。

unknown-again = 看来我还是没能帮上忙，我来帮您联系人工客服。

clarify-question = 您是想问“{ $first }”，还是“{ $second }”？点一下我就接着帮您。

btn-clarify-none = 都不是，转人工

also-asked = 您还问到了「{ $topic }」：

## 闲聊：致谢、好的、再见、问是不是机器人、骂人

chat-thanks = 不客气！还有其他问题，随时发消息给我。

chat-ack = 好的。还需要帮忙的话，直接告诉我就行。

chat-goodbye = 再见，祝您生意兴隆！有需要随时来找我。

chat-thanks-in-flow = 不客气！

chat-ack-in-flow = 好的。

chat-goodbye-in-flow = 好的，解绑还没办完，您可以接着办，也可以点“取消”退出。

chat-bot =
    我是 { $brand } 的自助客服，可以解答常见问题、办理结算卡解绑、查询申请进度。
    需要真人帮忙，点“人工客服”就行。

chat-abuse =
    抱歉让您不愉快了。请告诉我遇到了什么问题，我尽力帮您解决；
    也可以直接找人工客服。

chat-abuse-handoff = 我帮您转给人工客服处理。

## 超出范围的 POS 问题：说清是什么话题，由人工处理

outside-topic = 关于{ $topic }，需要人工客服为您处理，我这里办理不了。需要的话，点下方按钮转人工，客服会看到您问的是这件事。

outside-terminal-or-card = 您说的解绑，是指结算卡（收款的银行卡），还是机具（POS 机）？结算卡我可以直接帮您办；机具的解绑、移机或转让需要人工客服处理。

btn-outside-human = 转人工处理

topic-terminal = 机具（POS 机）解绑、移机或转让
topic-settlement-timing = 结算到账时间
topic-fees = 手续费和费率
topic-deposit = 机具押金
topic-terminal-fault = 机具故障
topic-licence = 营业执照、法人或店铺信息变更
topic-close-account = 注销商户
topic-refund = 退款
topic-invoice = 发票
topic-personal-card = 个人银行卡被冻结

lang-choose = 请选择您要使用的语言。

lang-written = 您用中文提问，我就用中文回复。想换语言，随时发送 /lang 或点下方按钮。
lang-set = 好的，接下来我会用中文为您服务。

media-unsupported = 目前我只能处理文字消息，图片、语音和文件暂时看不了。请用文字描述您的问题，或转人工客服。

text-too-long = 这条消息有点长，我最多能读 { $max } 个字。请精简一下，或分几条发送。

edited-message = 修改过的消息我这边不会重新处理。如有变化，请直接发一条新消息。

cancel-done = 好的，已退出当前操作。

cancel-nothing = 当前没有进行中的操作。

error-internal = 抱歉，系统出了点问题，请稍后再试。如果一直不成功，可以发送 /human 联系人工客服。

flood-notice = 您发消息有点快，请稍等片刻再继续。

callback-expired = 这个按钮已失效，请重新操作。

sensitive-card-number =
    为保护您的资金安全，刚才那条像是银行卡号的消息已被删除。
    请不要在聊天中发送完整卡号，办理解绑只需要商户编号。需要说明是哪张卡时，发卡号后四位就够了。

sensitive-password =
    请注意：{ $brand } 的工作人员和本机器人绝不会索要您的银行卡密码或支付密码，也不会让您把验证码转发给任何人。
    向您要这些信息的，都是冒充客服的骗子。

sensitive-password-deleted =
    为了您的账户安全，刚才那条含有密码的消息已被删除。
    { $brand } 的工作人员和本机器人绝不会索要您的密码，请不要把它发给任何人。

sensitive-code =
    刚才那串数字像是验证码，为安全起见已被删除。
    验证码只在解绑验证时输入，请不要发给任何人，包括客服。
    如果这是别的数字（比如卡号后四位、金额），加上文字一起发就会保留，例如“卡号后四位 0123”。

## 按钮

btn-unbind = 解绑结算卡
btn-faq = 常见问题
btn-status = 查询进度
btn-human = 人工客服
btn-menu = 主菜单
btn-cancel = 取消
btn-confirm = 信息无误，继续
btn-submit = 确认提交
btn-resend = 重新发送验证码
btn-unbind-with = 用这个编号解绑
btn-lang-zh = 中文
btn-lang-en = English
btn-faq-verification-failed = 验证失败怎么办
btn-faq-unbind-stuck = 解绑进度慢或卡住
btn-faq-new-account-inactive = 新结算账户未生效
btn-faq-payout-missing = 结算款没到账
btn-faq-unbind-prepare = 解绑前要准备什么
btn-faq-unbind-limits = 解绑次数与时段
btn-faq-security = 账户安全提醒
btn-faq-after-unbind = 解绑后要做什么
btn-faq-unbind-cost = 解绑要收费吗
btn-faq-card-frozen = 结算卡冻结或挂失
btn-faq-new-card-check-failed = 新卡绑定校验失败
btn-faq-request-rejected = 申请为什么被拒
btn-faq-cancel-request = 撤回已提交的申请
btn-faq-bind-new-account = 怎么绑定新卡
btn-faq-new-card-requirements = 新卡有什么要求
btn-faq-merchant-number = 商户编号在哪看
btn-rate-1 = ⭐ 1
btn-rate-2 = ⭐⭐ 2
btn-rate-3 = ⭐⭐⭐ 3
btn-rate-4 = ⭐⭐⭐⭐ 4
btn-rate-5 = ⭐⭐⭐⭐⭐ 5
btn-claim = 接单
btn-close = 关闭工单

faq-unbind-cost =
    解绑结算卡完全免费：不收手续费，不要押金，也不需要向任何账户转账。
    办理只在这里进行，不用下载软件、不用共享屏幕、不用点任何链接。
    凡是以解绑为由让您交钱、转账或索要验证码的，都是冒充 { $brand } 的骗子，请直接挂断或拉黑。

faq-card-frozen =
    结算卡被冻结、销户或挂失后，结算款可能无法到账，建议尽快处理：
    1. 点“解绑结算卡”，先把这张卡解绑
    2. 准备一张能正常使用的新卡，解绑完成后绑定
    3. 点“人工客服”并说明卡的情况，客服会优先帮您跟进暂时无法到账的款项
    卡被冻结的原因请向发卡银行咨询。

faq-new-card-check-failed =
    新卡绑定时，银行会核对四项信息：户名、身份证号、卡号和银行预留手机号，任何一项对不上都会失败。
    • 户名和身份证号要与商户登记的经营者（或法人）一致
    • 预留手机号以开卡时在银行登记的为准，换过号请先到银行更新
    • 卡号请逐位核对，卡片需为正常状态的借记卡
    核对无误仍然失败，请转人工客服。

faq-request-rejected =
    申请未通过的常见原因：
    • 超出次数限制，或在暂停办理的时段提交
    • 已有一笔申请正在处理
    • 商户资料与登记信息不一致，或账户存在风险提示
    拒绝通知里写有具体原因；没写或看不明白，请转人工，客服会结合您的申请说明。

faq-cancel-request =
    申请提交后就进入审核，您在这里不能自行撤回。
    如需撤回，请尽快转人工客服，并提供申请编号（发送 /status 可以查看）；申请还没办结时，客服可以帮您撤销。

faq-bind-new-account =
    我这里只负责解绑旧卡，新卡的绑定不在这里办理。
    旧卡解绑完成后，请在 { $brand } 的商户 App 里绑定新结算卡，或联系您的客户经理协助；不确定入口的话可以转人工问客服。
    绑定前请先看看新卡的要求，以免校验失败。

faq-new-card-requirements =
    新结算卡一般需要满足：
    • 个体商户：经营者（法人）本人名下的借记卡，不能用信用卡
    • 企业商户：公司的对公账户；能否用对私账户以签约时的约定为准
    • 卡片状态正常，开户名、身份证号、卡号和银行预留手机号都要与登记信息一致
    具体以您的签约要求为准，不确定的可以转人工确认。

faq-merchant-number =
    商户编号在这些地方可以找到：
    • 每张签购单（刷卡小票）上印的“商户编号”，通常是 15 位数字
    • 商户 App 的“我的”或商户信息页面
    • 开通时收到的入网资料
    找到后点“解绑结算卡”，再把编号发给我，格式类似 <code>{ $example }</code>。

## 常见问题

faq-unbind-prepare =
    解绑前请先准备好：
    • 当前结算卡的开户银行和卡号后四位
    • 新结算账户的户名、账号和开户行
    • 商户登记的手机号，用来接收验证码
    建议等在途的结算款到账后再解绑，以免款项仍进入旧卡。
    如 { $brand } 需要核验证件或人脸，会由人工客服协助（/human）。
    准备好后，点“解绑结算卡”或发送 /unbind 即可开始。

faq-verification-failed =
    验证码收不到或验证失败，一般是以下几种情况：
    • 没收到短信：短信偶尔会晚到，也可能被手机拦截到垃圾短信里；{ $resend_seconds } 秒后可在验证步骤点“重新发送验证码”，并确认商户登记的手机号仍在使用
    • 验证码输错：请核对短信后重新输入
    • 验证码已过期（{ $code_minutes } 分钟内有效）：请点“重新发送验证码”获取新的
    • 连续输错 { $max_attempts } 次会锁定 { $lock_minutes } 分钟，到时间后再试
    每次输错都计入失败次数，输入前请仔细核对。
    手机号已更换或一直无法验证，请发送 /human 转人工客服。

faq-unbind-stuck =
    解绑申请一般在 { $sla_hours } 小时内处理完成。
    • 先发送 /status 查看申请的当前状态
    • 操作时页面卡住，多半是网络波动，稍后重试即可
    • 超过 { $sla_hours } 小时仍在处理中，请发送 /human，人工客服会帮您跟进

faq-new-account-inactive =
    新结算账户还没生效，可以按顺序检查：
    1. 发送 /status，确认旧卡的解绑申请已完成：旧卡解除后，新账户才会生效
    2. 核对新账户的户名、账号和开户行是否正确
    3. 生效后留意下一笔结算是否正常到账
    以上都没问题仍未生效，请发送 /human 转人工客服处理。

faq-payout-missing =
    结算款没到账，先看最近有没有换过结算卡：
    • 换过：旧卡解绑完成、新账户生效后才会打款，点下方“新结算账户未生效”按步骤检查
    • 没换过：款项和到账时间需要人工客服帮您查，点“人工客服”即可
    查款只需要商户编号，请不要发送密码、验证码或完整卡号。

faq-unbind-limits =
    为保障资金安全，解绑有次数和时段限制：
    • 每 { $period_days } 天最多解绑 { $max_unbinds } 次
    • { $blackout ->
        [none] 目前没有暂停办理的时段，随时可以申请
       *[other] 每天 { $blackout }（{ $timezone }）暂停办理解绑
    }
    • 验证码连续输错过多，会暂时锁定
    超出限制的申请会被拒绝。如有特殊情况，请发送 /human 联系人工客服。

faq-security =
    请牢记以下几点：
    • { $brand } 的工作人员和本机器人绝不会索要银行卡密码、支付密码或完整卡号
    • 验证码只由您自己在这里输入，不要转发给任何人
    • 解绑、换绑不收任何费用，也不需要押金或转账；要您转账到“安全账户”、共享屏幕、下载软件或点链接的，都是诈骗
    • 凡是索要密码或验证码的，都是冒充客服的骗子，请立即停止联系
    • 已经把验证码或密码告诉了别人：请马上修改密码，联系发卡银行，并发送 /human 告诉我们
    • 定期查看登录记录和交易明细，发现异常请发送 /human

faq-after-unbind =
    解绑完成后，建议您：
    1. 确认新结算账户已经生效
    2. 同步更新商户资料及银行、税务信息
    3. 留意接下来几笔结算和交易是否正常
    4. 定期查看登录记录和交易明细
    5. 保存好解绑凭证和申请编号
    如有异常，请发送 /human 联系人工客服。

## 解绑流程

unbind-intro =
    好的，我们开始办理结算卡解绑。
    请发送您的商户编号，我会向商户登记的手机号发送验证码。
    全程无需提供银行卡号或密码，随时可以点“取消”退出。

unbind-offer-with = 这看起来是您的商户编号 <code>{ $merchant_id }</code>。要用它解绑结算卡吗？点“用这个编号解绑”，我会向商户登记的手机号发送验证码；也可以在下方选择其他服务。

unbind-merchant-id-invalid = 没能识别出商户编号，请检查后重新发送，格式类似 <code>{ $example }</code>。

unbind-where-merchant-id =
    商户编号印在 POS 签购单（小票）上“商户编号”那一栏，一般是 15 位数字，也可能是字母加数字。
    手边没有签购单的话，可以在收单机构给您的开户资料或商户后台里找到。
    找到后直接发给我就行。

unbind-code-sent =
    验证码已发送至商户登记手机 { $phone }，{ $minutes } 分钟内有效。
    请在这里输入 { $digits } 位验证码。
    验证码仅用于本次验证，任何人（包括客服）都不会向您索要，请勿告诉他人。

unbind-code-send-failed = 抱歉，短信暂时没能发出，本次不计入发送次数。请稍后点“重新发送验证码”再试。

unbind-code-maybe-lost = 抱歉，系统刚才中断了一下，验证码可能没有发出去，之前的验证码也已作废。本次不计入发送次数，请点“重新发送验证码”获取新的验证码。

unbind-code-format = 请输入 { $digits } 位数字验证码。没收到的话，可以点“重新发送验证码”。

unbind-code-wrong = 验证码不正确，还可以再试 { $attempts_left } 次。请核对短信后重新输入。

unbind-code-expired = 验证码已过期，请点“重新发送验证码”获取新的验证码。

unbind-code-locked =
    验证码已连续输错 { $max_attempts } 次。为保护您的账户，这个商户编号的验证码输入已锁定，{ $until } 后解除（约 { $minutes } 分钟）。
    这次没有提交任何申请，结算卡没有变化。
    到时间后发送 /unbind 重新开始；比较着急的话，点“人工客服”找客服帮您。

unbind-resend-wait = 验证码刚刚发出，短信有时会晚到一会儿，也请看看是否被手机拦截到了垃圾短信里。{ $seconds } 秒后可以重新获取。

unbind-send-limit = 验证码发送次数已达上限，请 { $minutes } 分钟后再试。比较着急的话，可以联系人工客服。

unbind-summary =
    <b>请核对解绑信息</b>
    商户名称：{ $merchant_name }
    商户编号：{ $merchant_id }
    结算银行：{ $bank }
    结算卡：{ $card }

    解绑后请注意：
    • 结算款将不再进入这张卡
    • 已在途的结算款仍可能到账原卡
    • 解绑完成后需另行绑定新结算账户，旧卡解除后新账户才会生效

    信息无误请点“信息无误，继续”。

unbind-final-confirm =
    <b>最后确认</b>：确定要解绑结算卡 { $card } 吗？
    提交后您不能自行撤回，如需撤回只能联系人工客服。确认无误请点“确认提交”。

unbind-refused-limit = 暂时无法解绑：每 { $period_days } 天最多可解绑 { $max_unbinds } 次，您已达到上限，{ $next_date } 起可再次申请。如有特殊情况，请联系人工客服。

unbind-refused-blackout = 每天 { $window }（{ $timezone }）暂停办理解绑，请在 { $next_time } 之后再试。

unbind-refused-pending = 您已有一笔解绑申请 <code>{ $reference }</code> 正在处理中，需等它办结后才能再次申请。可发送 /status 查看进度。

unbind-refused-locked = 为保障账户安全，该商户的验证已暂时锁定，请在 { $until } 之后再试。如需帮助，可以联系人工客服。

unbind-submitted =
    解绑申请已提交。
    申请编号：<code>{ $reference }</code>
    提交时间：{ $time }
    我们会在 { $sla_hours } 小时内处理，结果会在这里通知您。请保留好申请编号，随时可发送 /status 查看进度。

unbind-not-started = 好的，那就先不解绑，结算卡不会有任何变化。如果已经提交了申请、想撤回，请点“人工客服”；以后需要时发送 /unbind 就行。
unbind-stop-confirm = 要取消这次解绑吗？点“不办了”就结束，结算卡不会有任何变化。想继续办理的话，不用点按钮，直接接着操作就行（比如输入验证码）。
btn-stop-unbind = 不办了

unbind-phone-changed =
    验证码只会发到商户登记的手机号。如果这个号码已经不是您的或停用了，需要先更换登记手机号，这要由人工客服核实身份后办理。
    点“人工客服”说明情况即可；这次解绑可以先取消，换好号码后再来。

unbind-cancelled = 已取消本次解绑，您的结算卡没有任何变动。

unbind-stopped-for-human = 好的，这次解绑先停下了：没有提交任何申请，结算卡也没有变化。接下来由人工客服帮您；以后想自己办理，发送 /unbind 重新开始就行。

unbind-flow-expired = 由于超过 { $minutes } 分钟没有操作，本次流程已自动结束。如需继续，请发送 /unbind 重新开始。

unbind-reminder-merchant-id = 我们接着办理解绑：请发送您的商户编号（签购单上“商户编号”那一栏），或点“取消”退出。

unbind-reminder-code = 我们接着办理解绑：收到短信后在这里输入验证码即可；没收到可以点“重新发送验证码”。

unbind-reminder-confirm = 请用下方按钮确认，或点“取消”退出本次解绑。

## 申请与进度

status-need-verify = 查询进度前需要先验证身份。请发送您的商户编号，我会向商户登记的手机号发送验证码。

status-stopped-for-human = 好的，进度查询先停下了，接下来由人工客服帮您。以后想自己查，发送 /status 就行。

status-none = 商户 { $merchant_id } 目前没有解绑申请记录。

status-header = <b>商户 { $merchant_id } 的解绑申请</b>

status-line = • <code>{ $reference }</code> { $status }，{ $submitted } 提交，已过 { $age_days ->
        [0] { $age_hours } 小时
       *[other] { $age_days } 天 { $age_hours } 小时
    }

status-overdue = 申请 <code>{ $reference }</code> 已超过 { $sla_hours } 小时仍未办结，抱歉让您久等了。可以点下方按钮，请人工客服为您跟进。

request-status-submitted = 已提交
request-status-processing = 处理中
request-status-completed = 已完成
request-status-rejected = 未通过
request-status-cancelled = 已取消

notify-processing = 您的解绑申请 <code>{ $reference }</code> 已开始处理，办结后会第一时间通知您。

notify-completed =
    您的解绑申请 <code>{ $reference }</code> 已完成，原结算卡已解除绑定。
    接下来请绑定新的结算账户，并留意之后的结算是否正常到账。

notify-rejected =
    很抱歉，您的解绑申请 <code>{ $reference }</code> 未通过审核，结算款仍会进入原卡。
    { $reason ->
        [none] 审核未注明具体原因。如有疑问，可以联系人工客服。
       *[other] 原因：{ $reason }
    }

notify-cancelled =
    您的解绑申请 <code>{ $reference }</code> 已取消，结算卡保持不变。
    { $reason ->
        [none] 未注明具体原因。如有疑问，可以联系人工客服。
       *[other] 原因：{ $reason }
    }


## 人工客服（商户侧）

handoff-opened =
    已为您转接人工客服，您目前排在第 { $position } 位。
    请直接在这里描述您的问题，客服接入后会在此回复。请勿发送密码或验证码。

handoff-on-duty = 现在是客服工作时间，通常几分钟内就会有人回复您。

handoff-off-hours = 现在不在人工客服工作时间（{ $hours }）。您的留言会保留，客服预计 { $next_open } 上线后回复您。

handoff-already-open = 您的人工客服请求已在排队，目前排在第 { $position } 位，请稍候。有补充信息可以直接发在这里。

handoff-no-staff-chat =
    已记下您要找人工客服。这里暂时没法直接接通客服，可以这样联系：
    { $contact }
    在此期间，您仍然可以在这里问我问题，我会先尽力帮您。

handoff-contact-default = 客服会通过商户登记的手机号与您联系，请留意来电。真正的客服来电绝不会索要验证码、银行卡密码或完整卡号，也不会让您转账、下载软件或点链接；遇到这类要求，请直接挂断。

handoff-waiting = 请稍候，正在等待客服接入。您发的消息都会转给客服。

handoff-waiting-help =
    您正在等待人工客服，客服接入后会在这里回复您。
    • 有补充说明，直接发在这里，客服都能看到
    • 不需要了，发送 /cancel 撤回
    • 等待期间也可以先看看常见问题

handoff-unbind-later = 您正在等待人工客服，暂时不能同时办理解绑。可以把需求直接发在这里告诉客服；想自己办理的话，请先发送 /cancel 撤回人工请求。

handoff-status-needs-verify = 查询进度需要先验证商户编号。您可以把商户编号发在这里，客服会帮您查；也可以发送 /cancel 撤回人工请求后自己查询。

handoff-claimed = 客服 { $agent } 已接入，接下来会在这里为您服务。

handoff-closed =
    本次人工服务已结束，感谢您的耐心。
    方便的话，请为这次服务打个分：

handoff-rating-thanks = 感谢您的评分（{ $rating } 星）。如果还有意见或建议，可以直接回复一句话告诉我们。

handoff-comment-thanks = 收到您的意见了，谢谢，我们会认真改进。

handoff-withdrawn = 已撤回人工客服请求。还有其他需要，可以在下方选择。

handoff-cannot-withdraw = 客服已经在处理您的问题，暂时无法撤回。问题解决后，客服会结束本次会话。

reply-signature = 客服 { $agent }：

## 人工客服（客服群）

staff-relay-part =
    <b>{ $name }</b> { $time } 说：
    { $text }

staff-ticket-claimed = 工单 #{ $ticket } 已由 { $agent } 接单。

staff-ticket-closed = 工单 #{ $ticket } 已由 { $agent } 关闭。

staff-ticket-withdrawn = 工单 #{ $ticket } 已被商户撤回。

staff-ticket-rated = 工单 #{ $ticket } 评分：{ $rating }/5

staff-ticket-comment = 工单 #{ $ticket } 商户评价：{ $comment }

staff-not-staff = 仅限客服人员操作。

staff-tickets-header = <b>未结工单：{ $count } 个</b>

staff-tickets-line = #{ $ticket } · { $reason } · { $assignee } · 已等 { $age_minutes } 分钟

staff-tickets-none = 目前没有未结工单。

staff-reminder = ⏰ 工单 #{ $ticket } 已等待 { $minutes } 分钟，仍无人接单。

staff-merchant-edited =
    商户修改了消息：
    原文：{ $original }
    改为：{ $edited }

staff-unassigned = 待接单

staff-not-in-ticket = 这里没有进行中的工单（可能已关闭）。

reason-user-request = 用户要求人工
reason-code-locked = 验证码错误过多已锁定
reason-request-rejected = 解绑申请未通过
reason-request-overdue = 申请超时未办结
reason-unknown-twice = 连续两次未能识别
reason-urgent = 用户称情况紧急

## 客服工作台（工单话题里的卡片、按钮和命令）

ticket-status-open = 待接单
ticket-status-claimed = 处理中
ticket-status-closed = 已关闭
ticket-status-withdrawn = 商户已撤回

staff-topic-waiting = 🟡 { $who } · { $reason } · 待接单
staff-topic-claimed = 🔵 { $who } · { $reason } · { $agent } 处理中
staff-topic-closed = ⚪ { $who } · { $reason } · 已关闭

staff-ticket-already-yours = 工单 #{ $ticket } 已经在您名下。
staff-ticket-not-claimed = 工单 #{ $ticket } 还没有人接单。
staff-ticket-unclaimed = 工单 #{ $ticket } 已由 { $agent } 退回，等待其他同事接单。
staff-ticket-assigned = 工单 #{ $ticket } 已由 { $agent } 转给 { $to }。
staff-assign-not-staff = 只能转给客服同事。
staff-assign-how = 请回复那位同事的消息再发 /assign，或写 /assign 加对方的用户 ID。
staff-ticket-ended = 工单 #{ $ticket } 已结束；需要继续请先 /reopen。
staff-ticket-reopened = 工单 #{ $ticket } 已由 { $agent } 重新打开并接手。
staff-ticket-still-active = 工单 #{ $ticket } 还在进行中，不需要重新打开。
staff-reopen-other-active = 这位商户已有另一个进行中的工单，工单 #{ $ticket } 暂时不能重新打开。
staff-unlocked = 工单 #{ $ticket }：{ $agent } 已为商户 { $merchant } 解除验证码锁定。
staff-unlock-no-merchant = 这个工单的商户还没有通过验证，无法解除锁定。
staff-faq-list = 工单 #{ $ticket } 的常用回复，点一下即以您的名义发给商户：
staff-canned-sent = 工单 #{ $ticket }：{ $agent } 发送了常用回复「{ $faq }」。
staff-blocked = 工单 #{ $ticket }：{ $agent } 已屏蔽该用户，原因：{ $reason }
staff-block-needs-reason = 请写明屏蔽原因，例如：/block 反复辱骂
staff-unblocked = 工单 #{ $ticket }：{ $agent } 已解除对该用户的屏蔽。
staff-reject-ask = { $agent }，请直接回复这条消息，写明驳回申请 <code>{ $reference }</code> 的原因（商户会看到）。
staff-request-updated = 申请 { $reference } 已改为「{ $status }」，已通知商户。
staff-request-unchanged = 申请 { $reference } 已经是「{ $status }」。
staff-request-not-allowed = 申请 { $reference } 目前是「{ $status }」，不能再改为这个状态。
staff-request-not-found = 找不到申请 { $reference }。

staff-request-reason-too-long = 驳回原因太长了，请控制在 { $max } 个字以内，否则商户收不到这条通知。请重新回复一个简短的原因。
staff-unknown-command = 没有 { $command } 这个命令。发送 /help 查看可用命令。
staff-needs-topic = 这个命令要在工单的话题里使用。发送 /help 查看说明。
staff-help =
    <b>客服工作台</b>
    每个工单一个话题，置顶的卡片会随时更新。在工单话题里：
    直接发消息 — 回复商户（首次回复即接单）
    #note 开头 — 内部备注，商户看不到
    /claim 接单 · /unclaim 退回 · /assign 转给同事
    /close 关闭 · /reopen 重新打开
    /info 查看最新卡片 · /faq 常用回复
    /unlock 解除验证码锁定
    /block 原因 · /unblock 屏蔽或解除屏蔽
    在任意位置：/tickets 未结工单 · /help 本说明

staff-cmd-info = 工单卡片（最新）
staff-cmd-faq = 常用回复
staff-cmd-claim = 接单
staff-cmd-unclaim = 退回工单
staff-cmd-assign = 转给同事
staff-cmd-close = 关闭工单
staff-cmd-reopen = 重新打开工单
staff-cmd-unlock = 解除验证码锁定
staff-cmd-block = 屏蔽用户（需写原因）
staff-cmd-unblock = 解除屏蔽
staff-cmd-tickets = 未结工单
staff-cmd-stats = 服务统计
staff-cmd-help = 使用说明

btn-unclaim = 退回
btn-reopen = 重新打开
btn-info = 刷新卡片
btn-unlock = 解除验证码锁定
btn-request-processing = { $reference } 开始处理
btn-request-completed = { $reference } 办结
btn-request-rejected = { $reference } 驳回

card-title = <b>工单 #{ $ticket }</b> · { $status } · { $reason }
card-user = 用户：{ $name }（ID { $id }）· { $lang }
card-lang-zh = 中文
card-lang-en = 英文
card-merchant = 商户：{ $merchant } { $name } · { $bank } { $card } · 手机 { $phone }
card-merchant-unknown = 商户编号：{ $merchant }（未登记）
card-merchant-unverified = 商户：尚未验证
card-where = 当前：{ $where }
card-state-idle = 在菜单（没有进行中的流程）
card-state-merchant-id = 正在输入商户编号
card-state-code = 正在输入验证码
card-state-confirm = 正在核对解绑信息
card-state-final-confirm = 等待最终确认
card-locked = 🔒 验证码已锁定，约 { $minutes } 分钟后解除
card-blocked = ⛔ 该用户已被屏蔽
card-requests-none = 解绑申请：无
card-requests = 解绑申请：
card-request = • 申请 <code>{ $reference }</code>：{ $status }
card-earlier = 之前的工单：
card-earlier-line = • 工单 #{ $ticket }：{ $status } { $link }
card-recent = 最近消息：
card-line-button = • 点了按钮：{ $button }
card-line-command = • 发送命令 { $command }
card-line-media = • 发来{ $media }
card-line-text = • 说：{ $text }
card-media-photo = 图片
card-media-document = 文件
card-media-voice = 语音
card-media-video = 视频
card-media-sticker = 表情
card-media-other = 其他消息
card-button-rating = 评分
card-button-other = 其他按钮

notify-codes-unlocked = 客服已为您解除验证码锁定，现在可以重新获取验证码了。

blocked-notice = 抱歉，您的账号暂时无法使用本服务。如有疑问，请通过官方客服热线联系我们。

staff-ticket-asked-again = 商户再次请求人工，工单 #{ $ticket } 已重新打开，等待接单。

staff-stats-header = <b>近 { $days } 天的服务统计</b>（首次回复 / 解决用时：中位数 / 90 分位）
staff-stats-all = 全部：{ $tickets } 个工单 · 首次回复 { $first } · 解决 { $resolution } · 满意度 { $csat }
staff-stats-agent = { $agent }：{ $tickets } 个工单 · 首次回复 { $first } · 解决 { $resolution } · 满意度 { $csat }

request-post-title = <b>解绑申请 <code>{ $reference }</code></b> · { $status }
request-post-created = 提交时间：{ $at }
request-post-reason = 原因：{ $reason }

card-line-code = • 输入了一串数字（可能是验证码，已隐藏）

## 时间与列表

list-separator = ；
zone-beijing = 北京时间
hours-span = { $days } { $from }–{ $to }
hours-days = { $first }至{ $last }
day-mon = 周一
day-tue = 周二
day-wed = 周三
day-thu = 周四
day-fri = 周五
day-sat = 周六
day-sun = 周日
