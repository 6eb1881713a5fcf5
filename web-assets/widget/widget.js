/*
 * Kefu live chat widget.
 *
 * Embedded with one tag on any page:
 *
 *   <script src="https://SUPPORT_HOST/widget.js" data-channel="WIDGET_ID" async></script>
 *
 * Optional attributes: data-language (zh-CN | zh-TW | en), data-color (brand colour),
 * data-title (the panel's title). A verified customer is passed before the tag loads with
 * `window.KefuChat = {identity: {user_id, user_hash, email?, name?}}` (or `{identity: {token}}`),
 * or later with `KefuChat.identify(identity)`.
 *
 * Public API: KefuChat.open(), .close(), .identify(identity | null), .setLanguage(lang), and
 * KefuChat.stepUp: a function of the host page (set before the tag loads, or any time after)
 * that signs the customer in again and resolves to a freshly signed identity `{token}`, for an
 * identity check an agent asks for ("Confirm it's me").
 *
 * Everything lives in one shadow root; the only global is window.KefuChat. The protocol is
 * docs/chat-protocol.md: hello/welcome, send/ack with client ids (retried after a reconnect
 * until acknowledged), resume after the highest seq seen, typing, read, rate, verify.
 */
(() => {
  'use strict';

  if (window.KefuChat && window.KefuChat.version) return; // loaded twice

  // --- Where we come from -------------------------------------------------------------------

  const script = document.currentScript
    || document.querySelector('script[src$="/widget.js"][data-channel]')
    || document.querySelector('script[src$="/widget.js"]');
  const preset = (window.KefuChat && typeof window.KefuChat === 'object') ? window.KefuChat : {};
  const attr = (name) => (script && script.getAttribute(name)) || null;
  const HOST = (() => {
    try {
      return new URL(script && script.src ? script.src : (preset.host || location.href), location.href).origin;
    } catch {
      return location.origin;
    }
  })();
  const WIDGET_ID = attr('data-channel') || preset.channel || '';
  const LANGS = ['zh-CN', 'zh-TW', 'en'];

  function pickLanguage(raw) {
    const l = String(raw || '').trim();
    if (!l) return null;
    if (LANGS.includes(l)) return l;
    // As the console matches browser languages (web-assets/shared/i18n.js).
    const low = l.toLowerCase().replace(/_/g, '-');
    if (!low.startsWith('zh')) return 'en';
    if (low.includes('hans')) return 'zh-CN';
    if (low.includes('hant') || /^zh-(tw|hk|mo)\b/.test(low)) return 'zh-TW';
    return 'zh-CN';
  }

  // --- Strings --------------------------------------------------------------------------------

  const STRINGS = {
    en: {
      title: 'Support',
      openChat: 'Open support chat',
      closeChat: 'Close support chat',
      minimize: 'Close',
      back: 'Back to conversations',
      unread: (n) => `${n} unread`,
      subtitleOnline: 'We usually reply in a few minutes',
      subtitleOffline: 'We are away right now',
      handledBy: 'is handling your conversation',
      greeting: 'Hi there 👋 How can we help you today?',
      newConversation: 'New conversation',
      recent: 'Your conversations',
      noSubject: 'Conversation',
      status: { open: 'Open', pending: 'Waiting for you', on_hold: 'On hold', resolved: 'Resolved', closed: 'Closed' },
      offlineDefault: 'We are away at the moment. Leave a message and we will get back to you.',
      backAt: (when) => `We are back ${when}.`,
      replyWithin: (n) => `We usually reply within ${n} ${n === 1 ? 'hour' : 'hours'}.`,
      emailNeeded: 'Your e-mail address, so we can answer you',
      emailFollowUp: 'We\'re away. Leave your e-mail and we\'ll send the answer there too.',
      name: 'Name',
      email: 'E-mail',
      topic: 'Topic',
      topicChoose: 'Choose a topic (optional)',
      optional: 'optional',
      topics: { account: 'Account', deposit: 'Deposit', withdrawal: 'Withdrawal', trading: 'Trading', security: 'Security', other: 'Other' },
      emailRequired: 'Please enter your e-mail address.',
      emailInvalid: 'Please enter an e-mail address like name@example.com.',
      placeholder: 'Write a message…',
      send: 'Send',
      attach: 'Attach a file',
      dropHere: 'Drop files to send them',
      sending: 'Sending…',
      sent: 'Sent',
      read: 'Read',
      failed: 'Not sent',
      retry: 'Retry',
      uploading: 'Uploading…',
      uploadFailed: (name) => `Could not upload ${name}.`,
      fileTooLarge: (name) => `${name} is too large.`,
      you: 'You',
      typing: (name) => `${name || 'An agent'} is typing…`,
      queue: (n) => `You are number ${n} in line.`,
      queueWait: (n, m) => `You are number ${n} in line, estimated wait ${m} min.`,
      reconnecting: 'Reconnecting…',
      connecting: 'Connecting…',
      connected: 'Connected',
      invalidIdentity: 'We could not verify your account. Please sign in again and reload the page.',
      identityExpired: 'Your sign-in has expired. Please reload the page.',
      unavailable: 'The chat is not available right now.',
      closedNotice: 'This conversation is closed.',
      startNew: 'Start a new conversation',
      csatQuestion: 'How would you rate this conversation?',
      csatComment: 'Tell us more (optional)',
      csatSubmit: 'Send rating',
      csatThanks: 'Thank you for your feedback!',
      csatYours: (n) => `You rated this conversation ${n} out of 5.`,
      star: (n) => `${n} ${n === 1 ? 'star' : 'stars'}`,
      image: 'Image',
      openImage: 'Open image in full size',
      closeImage: 'Close image',
      loading: 'Loading…',
      tryLater: 'Please try again in a moment.',
      suggestions: 'Suggested articles',
      hideSuggestions: 'Hide suggested articles',
      opensInNewTab: 'Opens in a new tab',
      helpSearch: 'Search help articles',
      helpPlaceholder: 'Search for help',
      helpResults: (n) => `${n} ${n === 1 ? 'article' : 'articles'} found`,
      helpNone: 'No articles found',
      helpAsk: 'Start a conversation',
      linkLookalike: (of) => `Warning: this link imitates ${of}. Do not open it.`,
      linkShortener: 'Shortened link: its destination is hidden.',
      checkTitle: 'Confirm it\'s you',
      checkWhy: 'To protect your account, we need to confirm it\'s you before we continue.',
      checkFor: (r) => `Request: ${r}`,
      checkReasons: {
        account_unlock: 'Unlocking your account', twofa_reset: 'Resetting your two-factor authentication (2FA)',
        contact_change: 'Changing your e-mail address or phone number', withdrawal_dispute: 'Your withdrawal',
        security_hacked: 'Securing your account', close_account: 'Closing your account', other: 'Your request',
      },
      checkEmail: (to) => `Enter the 6-digit code we sent to ${to}.`,
      checkEmailAny: 'Enter the 6-digit code we sent to your registered e-mail address.',
      checkTotp: 'Enter the 6-digit code from the authenticator app linked to your account.',
      checkSession: 'Sign in to your account again to confirm.',
      checkNoHook: 'Sign in to your account again on our website, then reload this page to confirm.',
      checkCode: 'Verification code',
      checkConfirm: 'Confirm',
      checkConfirmMe: 'Confirm it\'s me',
      checkChecking: 'Checking…',
      checkAttempts: (n) => `${n} ${n === 1 ? 'try' : 'tries'} left`,
      checkValidUntil: (time) => `Valid until ${time}`,
      checkNever: 'Type the code only here: never send it in a message or tell it to anyone, including our staff.',
      checkCodeInvalid: 'Enter the 6 digits of the code.',
      checkWrong: (n) => (n > 0 ? `That code is not right. ${n} ${n === 1 ? 'try' : 'tries'} left.` : 'That code is not right.'),
      checkWrongSession: 'We could not confirm your sign-in. Please try again.',
      checkSignInFailed: 'Signing in again did not work. Please try again.',
      checkClosed: 'This check is no longer open. Write to us here if you still need help.',
      checkUnavailable: 'We cannot check this right now. Please try again in a moment.',
      checkOffline: 'Not connected. Please wait a moment and try again.',
      checkDone: 'Identity confirmed. Thank you!',
    },
    'zh-CN': {
      title: '在线客服',
      openChat: '打开在线客服',
      closeChat: '关闭在线客服',
      minimize: '关闭',
      back: '返回会话列表',
      unread: (n) => `${n} 条未读`,
      subtitleOnline: '通常几分钟内回复',
      subtitleOffline: '客服暂时不在线',
      handledBy: '正在为您服务',
      greeting: '您好 👋 有什么可以帮您？',
      newConversation: '新建会话',
      recent: '您的会话',
      noSubject: '会话',
      status: { open: '处理中', pending: '等待您回复', on_hold: '暂挂', resolved: '已解决', closed: '已关闭' },
      offlineDefault: '客服暂时不在线。请留言，我们会尽快回复您。',
      backAt: (when) => `我们将于 ${when} 回来。`,
      replyWithin: (n) => `我们通常在 ${n} 小时内回复。`,
      emailNeeded: '请留下您的邮箱，以便我们回复您',
      emailFollowUp: '我们暂时不在线。请留下您的邮箱，我们也会把回复发送到那里。',
      name: '称呼',
      email: '邮箱',
      topic: '问题类型',
      topicChoose: '选择问题类型（可选）',
      optional: '可选',
      topics: { account: '账户', deposit: '充值', withdrawal: '提币', trading: '交易', security: '安全', other: '其他' },
      emailRequired: '请输入您的邮箱地址。',
      emailInvalid: '请输入有效的邮箱地址，例如 name@example.com。',
      placeholder: '输入消息…',
      send: '发送',
      attach: '添加附件',
      dropHere: '松开即可发送文件',
      sending: '发送中…',
      sent: '已发送',
      read: '已读',
      failed: '未发送',
      retry: '重试',
      uploading: '上传中…',
      uploadFailed: (name) => `${name} 上传失败。`,
      fileTooLarge: (name) => `${name} 文件过大。`,
      you: '您',
      typing: (name) => `${name || '客服'} 正在输入…`,
      queue: (n) => `您前面还有 ${n - 1} 位，当前排在第 ${n} 位。`,
      queueWait: (n, m) => `您排在第 ${n} 位，预计等待 ${m} 分钟。`,
      reconnecting: '正在重新连接…',
      connecting: '正在连接…',
      connected: '已连接',
      invalidIdentity: '无法验证您的账户，请重新登录后刷新页面。',
      identityExpired: '登录已过期，请刷新页面。',
      unavailable: '在线客服暂不可用。',
      closedNotice: '此会话已关闭。',
      startNew: '开始新会话',
      csatQuestion: '您对本次服务满意吗？',
      csatComment: '补充说明（可选）',
      csatSubmit: '提交评价',
      csatThanks: '感谢您的评价！',
      csatYours: (n) => `您给本次会话的评分：${n}/5。`,
      star: (n) => `${n} 星`,
      image: '图片',
      openImage: '查看原图',
      closeImage: '关闭图片',
      loading: '加载中…',
      tryLater: '请稍后再试。',
      suggestions: '推荐文章',
      hideSuggestions: '隐藏推荐文章',
      opensInNewTab: '在新标签页中打开',
      helpSearch: '搜索帮助文章',
      helpPlaceholder: '搜索帮助文章',
      helpResults: (n) => `找到 ${n} 篇文章`,
      helpNone: '没有找到相关文章',
      helpAsk: '发起会话',
      linkLookalike: (of) => `警告：此链接在冒充 ${of}，请勿打开。`,
      linkShortener: '短链接：无法看到它真正指向哪里。',
      checkTitle: '确认是您本人',
      checkWhy: '为保护您的账户安全，继续处理前需要确认是您本人。',
      checkFor: (r) => `申请事项：${r}`,
      checkReasons: {
        account_unlock: '解锁账户', twofa_reset: '重置双重验证（2FA）', contact_change: '更改邮箱或手机号',
        withdrawal_dispute: '您的提币', security_hacked: '保护您的账户安全', close_account: '注销账户', other: '您的请求',
      },
      checkEmail: (to) => `请输入我们发送到 ${to} 的 6 位验证码。`,
      checkEmailAny: '请输入我们发送到您注册邮箱的 6 位验证码。',
      checkTotp: '请输入您账户绑定的身份验证器中显示的 6 位验证码。',
      checkSession: '请重新登录您的账户以确认身份。',
      checkNoHook: '请在我们的网站上重新登录您的账户，然后刷新此页面完成确认。',
      checkCode: '验证码',
      checkConfirm: '确认',
      checkConfirmMe: '确认是我本人',
      checkChecking: '正在验证…',
      checkAttempts: (n) => `还可尝试 ${n} 次`,
      checkValidUntil: (time) => `有效期至 ${time}`,
      checkNever: '请只在此处输入验证码，切勿在消息中发送或告诉任何人（包括我们的工作人员）。',
      checkCodeInvalid: '请输入 6 位数字验证码。',
      checkWrong: (n) => (n > 0 ? `验证码不正确，还可尝试 ${n} 次。` : '验证码不正确。'),
      checkWrongSession: '无法确认您的登录，请重试。',
      checkSignInFailed: '重新登录未成功，请重试。',
      checkClosed: '此验证已结束。如仍需帮助，请在此留言。',
      checkUnavailable: '暂时无法验证，请稍后再试。',
      checkOffline: '连接已断开，请稍后再试。',
      checkDone: '身份已确认，谢谢！',
    },
    'zh-TW': {
      title: '線上客服',
      openChat: '開啟線上客服',
      closeChat: '關閉線上客服',
      minimize: '關閉',
      back: '返回對話列表',
      unread: (n) => `${n} 則未讀`,
      subtitleOnline: '通常幾分鐘內回覆',
      subtitleOffline: '客服暫時不在線上',
      handledBy: '正在為您服務',
      greeting: '您好 👋 有什麼可以幫您？',
      newConversation: '新對話',
      recent: '您的對話',
      noSubject: '對話',
      status: { open: '處理中', pending: '等待您回覆', on_hold: '暫停', resolved: '已解決', closed: '已關閉' },
      offlineDefault: '客服暫時不在線上。請留言，我們會盡快回覆您。',
      backAt: (when) => `我們將於 ${when} 回來。`,
      replyWithin: (n) => `我們通常在 ${n} 小時內回覆。`,
      emailNeeded: '請留下您的電子郵件，以便我們回覆您',
      emailFollowUp: '我們暫時不在線上。請留下您的電子郵件，我們也會把回覆寄到那裡。',
      name: '稱呼',
      email: '電子郵件',
      topic: '問題類型',
      topicChoose: '選擇問題類型（選填）',
      optional: '選填',
      topics: { account: '帳戶', deposit: '入金', withdrawal: '提幣', trading: '交易', security: '安全', other: '其他' },
      emailRequired: '請輸入您的電子郵件地址。',
      emailInvalid: '請輸入有效的電子郵件地址，例如 name@example.com。',
      placeholder: '輸入訊息…',
      send: '傳送',
      attach: '附加檔案',
      dropHere: '放開即可傳送檔案',
      sending: '傳送中…',
      sent: '已傳送',
      read: '已讀',
      failed: '未傳送',
      retry: '重試',
      uploading: '上傳中…',
      uploadFailed: (name) => `${name} 上傳失敗。`,
      fileTooLarge: (name) => `${name} 檔案過大。`,
      you: '您',
      typing: (name) => `${name || '客服'} 正在輸入…`,
      queue: (n) => `您目前排在第 ${n} 位。`,
      queueWait: (n, m) => `您排在第 ${n} 位，預計等候 ${m} 分鐘。`,
      reconnecting: '正在重新連線…',
      connecting: '正在連線…',
      connected: '已連線',
      invalidIdentity: '無法驗證您的帳戶，請重新登入後重新整理頁面。',
      identityExpired: '登入已逾時，請重新整理頁面。',
      unavailable: '線上客服暫時無法使用。',
      closedNotice: '此對話已關閉。',
      startNew: '開始新對話',
      csatQuestion: '您對這次服務滿意嗎？',
      csatComment: '補充說明（選填）',
      csatSubmit: '送出評價',
      csatThanks: '感謝您的回饋！',
      csatYours: (n) => `您給這次對話的評分：${n}/5。`,
      star: (n) => `${n} 顆星`,
      image: '圖片',
      openImage: '檢視原圖',
      closeImage: '關閉圖片',
      loading: '載入中…',
      tryLater: '請稍後再試。',
      suggestions: '推薦文章',
      hideSuggestions: '隱藏推薦文章',
      opensInNewTab: '在新分頁中開啟',
      helpSearch: '搜尋幫助文章',
      helpPlaceholder: '搜尋幫助文章',
      helpResults: (n) => `找到 ${n} 篇文章`,
      helpNone: '沒有找到相關文章',
      helpAsk: '開始對話',
      linkLookalike: (of) => `警告：此連結在冒充 ${of}，請勿開啟。`,
      linkShortener: '短網址：無法看到它真正指向哪裡。',
      checkTitle: '確認是您本人',
      checkWhy: '為保護您的帳戶安全，繼續處理前需要確認是您本人。',
      checkFor: (r) => `申請事項：${r}`,
      checkReasons: {
        account_unlock: '解鎖帳戶', twofa_reset: '重設雙重驗證（2FA）', contact_change: '變更電子郵件或手機號碼',
        withdrawal_dispute: '您的提幣', security_hacked: '保護您的帳戶安全', close_account: '註銷帳戶', other: '您的請求',
      },
      checkEmail: (to) => `請輸入我們傳送到 ${to} 的 6 位驗證碼。`,
      checkEmailAny: '請輸入我們傳送到您註冊電子郵件的 6 位驗證碼。',
      checkTotp: '請輸入您帳戶綁定的身分驗證器中顯示的 6 位驗證碼。',
      checkSession: '請重新登入您的帳戶以確認身分。',
      checkNoHook: '請在我們的網站上重新登入您的帳戶，然後重新整理此頁面完成確認。',
      checkCode: '驗證碼',
      checkConfirm: '確認',
      checkConfirmMe: '確認是我本人',
      checkChecking: '正在驗證…',
      checkAttempts: (n) => `還可嘗試 ${n} 次`,
      checkValidUntil: (time) => `有效期限至 ${time}`,
      checkNever: '請只在此處輸入驗證碼，切勿在訊息中傳送或告訴任何人（包括我們的工作人員）。',
      checkCodeInvalid: '請輸入 6 位數字驗證碼。',
      checkWrong: (n) => (n > 0 ? `驗證碼不正確，還可嘗試 ${n} 次。` : '驗證碼不正確。'),
      checkWrongSession: '無法確認您的登入，請重試。',
      checkSignInFailed: '重新登入未成功，請重試。',
      checkClosed: '此驗證已結束。如仍需協助，請在此留言。',
      checkUnavailable: '暫時無法驗證，請稍後再試。',
      checkOffline: '連線已中斷，請稍後再試。',
      checkDone: '身分已確認，謝謝！',
    },
  };
  // zh-CN's queue line without a "people ahead" count reads more naturally:
  STRINGS['zh-CN'].queue = (n) => `您当前排在第 ${n} 位。`;

  let lang = pickLanguage(attr('data-language')) || pickLanguage(preset.language)
    || pickLanguage((navigator.languages && navigator.languages[0]) || navigator.language) || 'en';
  const T = () => STRINGS[lang] || STRINGS.en;

  // --- Storage (may be unavailable: private windows, sandboxed frames) ------------------------

  const store = {
    get(k) {
      try { return window.localStorage.getItem(k); } catch { return null; }
    },
    set(k, v) {
      try { window.localStorage.setItem(k, v); } catch { /* not kept */ }
    },
    remove(k) {
      try { window.localStorage.removeItem(k); } catch { /* nothing */ }
    },
  };

  const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  function randomKey(n) {
    const bytes = new Uint8Array(n);
    crypto.getRandomValues(bytes);
    let s = '';
    for (const b of bytes) s += URL_SAFE[b & 63];
    return s;
  }

  const VISITOR_KEY_NAME = `kefu.visitor.${WIDGET_ID}`;
  const OUTBOX_NAME = `kefu.outbox.${WIDGET_ID}`;

  function visitorKey() {
    let k = store.get(VISITOR_KEY_NAME);
    if (!k || !/^[A-Za-z0-9_-]{22,128}$/.test(k)) {
      k = randomKey(32);
      store.set(VISITOR_KEY_NAME, k);
    }
    return k;
  }

  // --- State ----------------------------------------------------------------------------------

  let identity = normalizeIdentity(preset.identity);
  // The host page's functions: `stepUp` signs the customer in again for an identity check.
  const hooks = { stepUp: typeof preset.stepUp === 'function' ? preset.stepUp : null };
  const clientPrefix = randomKey(10);
  let clientCounter = 0;
  const nextClientId = () => `w${clientPrefix}-${++clientCounter}`;

  const state = {
    config: null,
    ws: null,
    conn: 'idle', // idle | connecting | ready | down | fatal
    welcomed: false,
    fatal: null, // the message shown when the chat cannot go on
    verified: false,
    name: '',
    everReady: false,
    attempt: 0,
    convs: new Map(), // id -> conversation (+ seq, readSent, loaded)
    order: [], // conversation ids, newest first
    msgs: new Map(), // conversation id -> Map(seq -> message)
    msgIds: new Set(),
    pending: [], // unacknowledged customer messages, in order
    followed: new Set(), // conversations resumed on this socket
    open: false,
    view: 'home', // home | chat
    activeId: null, // null in the chat view: a new conversation
    chosen: false, // the visitor picked a view themselves
    typing: null, // {conversationId, name, timer}
    banner: null, // {kind, text}
    notice: null, // a transient error line over the composer
    closedOffer: null, // text of a message refused because its chat was closed
    csat: { score: 0, comment: '', sending: false },
    checkDone: null, // {convId, until}: "Identity confirmed" shows until then
  };

  function normalizeIdentity(id) {
    if (!id || typeof id !== 'object') return null;
    if (typeof id.token === 'string' && id.token) return { token: id.token };
    if (id.user_id != null && id.user_hash) {
      const out = { user_id: String(id.user_id), user_hash: String(id.user_hash) };
      if (id.email) out.email = String(id.email);
      if (id.name) out.name = String(id.name);
      return out;
    }
    return null;
  }

  /** Whose unsent messages the outbox holds: never replayed as somebody else. */
  function who() {
    if (!identity) return `anon:${visitorKey()}`;
    return identity.token ? `token:${identity.token.slice(-16)}` : `user:${identity.user_id}`;
  }

  function helloFrame() {
    const f = { type: 'hello', widget_id: WIDGET_ID, language: lang };
    if (identity) f.identity = identity;
    else f.visitor_key = visitorKey();
    return f;
  }

  function saveOutbox() {
    const items = state.pending
      .filter((p) => p.state === 'sending' || p.state === 'waiting')
      .map((p) => ({
        client_id: p.client_id, conversation_id: p.conversation_id, body: p.body,
        attachment_ids: p.attachment_ids, attachments: p.attachments, prechat: p.prechat, created_at: p.created_at,
      }));
    if (items.length) store.set(OUTBOX_NAME, JSON.stringify({ who: who(), items }));
    else store.remove(OUTBOX_NAME);
  }

  function loadOutbox() {
    state.pending = [];
    let saved = null;
    try { saved = JSON.parse(store.get(OUTBOX_NAME) || 'null'); } catch { saved = null; }
    if (!saved || saved.who !== who() || !Array.isArray(saved.items)) return;
    for (const it of saved.items) {
      if (!it || typeof it.client_id !== 'string') continue;
      state.pending.push({
        client_id: it.client_id, conversation_id: it.conversation_id || null, body: String(it.body || ''),
        attachment_ids: Array.isArray(it.attachment_ids) ? it.attachment_ids : [],
        attachments: Array.isArray(it.attachments) ? it.attachments : [],
        prechat: it.prechat || null, created_at: it.created_at || new Date().toISOString(),
        state: 'sending', inflight: false, retryAt: 0,
      });
    }
  }

  // --- Helpers --------------------------------------------------------------------------------

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v == null || v === false) continue;
        if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
        else if (k === 'testid') el.setAttribute('data-testid', v);
        else if (k === 'dataset') { for (const [dk, dv] of Object.entries(v)) if (dv != null) el.dataset[dk] = String(dv); }
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
        else if (k === 'value') el.value = v;
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const c of children) {
      if (c == null || c === false) continue;
      if (Array.isArray(c)) append(el, c);
      else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const ICONS = {
    chat: 'M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.2 3.4A.5.5 0 0 1 5 19v-3h1.5M6.5 16A2.5 2.5 0 0 1 4 13.5v-8',
    close: 'M6 6l12 12M18 6L6 18',
    chevronDown: 'M6 9l6 6 6-6',
    back: 'M15 18l-6-6 6-6',
    send: 'M4 12l16-8-6 16-2.5-6.5L4 12zM11.5 13.5L20 4',
    clip: 'M20.5 11.5l-8.1 8.1a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8',
    file: 'M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8l-5-5zM14 3v5h5',
    star: 'M12 3.5l2.6 5.3 5.9.9-4.3 4.1 1 5.8L12 16.9l-5.2 2.7 1-5.8-4.3-4.1 5.9-.9L12 3.5z',
    check: 'M5 12.5l4.5 4.5L19 7.5',
    checks: 'M2.5 12.5L7 17l9.5-9.5M11 16l1 1 9.5-9.5',
    clock: 'M12 7v5l3 2M21 12a9 9 0 1 1-18 0 9 9 0 0 1 18 0z',
    alert: 'M12 8v5M12 16.5v.5M10.3 3.9L2.4 17.5A2 2 0 0 0 4.1 20.5h15.8a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z',
    moon: 'M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z',
    plus: 'M12 5v14M5 12h14',
    search: 'M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM20 20l-4.2-4.2',
    shield: 'M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6zM9 12l2 2 4-4',
  };

  function icon(name, cls) {
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    svg.setAttribute('class', `icon${cls ? ` ${cls}` : ''}`);
    const p = document.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', ICONS[name]);
    svg.append(p);
    return svg;
  }

  function abs(url) {
    try { return new URL(url, HOST).href; } catch { return url; }
  }

  function thumbnailUrl(url) {
    try {
      const u = new URL(url, HOST);
      u.pathname = `${u.pathname.replace(/\/$/, '')}/thumbnail`;
      return u.href;
    } catch {
      return url;
    }
  }

  function formatBytes(n) {
    if (!(n >= 0)) return '';
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }

  function formatTime(iso) {
    const d = iso ? new Date(iso) : null;
    if (!d || Number.isNaN(d.getTime())) return '';
    const now = new Date();
    const sameDay = d.toDateString() === now.toDateString();
    const opts = sameDay ? { hour: '2-digit', minute: '2-digit' } : { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' };
    try { return new Intl.DateTimeFormat(lang, opts).format(d); } catch { return d.toLocaleString(); }
  }

  function formatWhen(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '';
    const now = new Date();
    const tomorrow = new Date(now);
    tomorrow.setDate(now.getDate() + 1);
    let opts;
    if (d.toDateString() === now.toDateString()) opts = { hour: '2-digit', minute: '2-digit' };
    else if (d.getTime() - now.getTime() < 6 * 86400e3) opts = { weekday: 'long', hour: '2-digit', minute: '2-digit' };
    else opts = { month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit' };
    try { return new Intl.DateTimeFormat(lang, opts).format(d); } catch { return d.toLocaleString(); }
  }

  function initials(name) {
    const s = String(name || '').trim();
    if (!s) return '?';
    // A Chinese name shows its last two characters (王小明 → 小明, 陈静 → 陈静), as is usual.
    const han = s.match(/[\u3400-\u9fff\uf900-\ufaff]+/);
    if (han) return [...han[0]].slice(-2).join('');
    const parts = s.split(/\s+/).filter(Boolean);
    const first = parts[0] ? [...parts[0]][0] : '';
    const last = parts.length > 1 ? [...parts[parts.length - 1]][0] : '';
    return (first + last).toUpperCase() || '?';
  }

  function nameColour(name) {
    let hash = 0;
    for (const ch of String(name || '')) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
    return `hsl(${hash % 360}, 48%, 42%)`;
  }

  function avatar(name, cls) {
    const el = h('span', { class: ['avatar', cls], 'aria-hidden': 'true', testid: 'kefu-agent-avatar' }, initials(name));
    el.style.setProperty('--avatar-bg', nameColour(name)); // CSSOM: allowed under a strict CSP
    return el;
  }

  /** The host of a link or bare domain, as the browser spells it (IDNs in punycode), or null. */
  function hostOf(s) {
    try {
      return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `http://${s}`).hostname.toLowerCase() || null;
    } catch {
      return null;
    }
  }

  /**
   * Text with line breaks kept and web links made clickable, except links the shield judged
   * lookalikes (`blocked`: their hosts), which stay plain text.
   */
  function richText(body, blocked) {
    const out = [];
    const re = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
    let last = 0;
    let m;
    while ((m = re.exec(body))) {
      if (m.index > last) out.push(body.slice(last, m.index));
      if (blocked && blocked.size && blocked.has(hostOf(m[0]))) {
        out.push(h('span', { class: 'link-blocked', testid: 'kefu-link-blocked' }, m[0]));
      } else {
        out.push(h('a', { href: m[0], target: '_blank', rel: 'noopener noreferrer nofollow' }, m[0]));
      }
      last = m.index + m[0].length;
    }
    if (last < body.length) out.push(body.slice(last));
    return out;
  }

  const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

  // --- Styles ---------------------------------------------------------------------------------

  const CSS = `
:host { all: initial; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.root {
  --brand: #2952e3;
  --brand-ink: #ffffff;
  --ink: #1b2230;
  --muted: #5d6878;
  --subtle: #8a94a3;
  --line: #e4e7ec;
  --surface: #ffffff;
  --sunken: #f4f6f9;
  --agent-bg: #f1f3f6;
  --danger: #c8333a;
  --success: #177a43;
  --warning-bg: #fff6e0;
  --warning-ink: #7a4a00;
  --radius: 16px;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, "PingFang SC", "PingFang TC", "Hiragino Sans GB", "Microsoft YaHei", "Microsoft JhengHei", sans-serif;
  font-size: 14px;
  line-height: 1.45;
  color: var(--ink);
  -webkit-font-smoothing: antialiased;
  text-align: left;
  letter-spacing: normal;
}
.icon { width: 20px; height: 20px; fill: none; stroke: currentColor; stroke-width: 1.8; stroke-linecap: round; stroke-linejoin: round; flex: none; }
button { font: inherit; color: inherit; cursor: pointer; border: 0; background: none; padding: 0; margin: 0; }
button:disabled { cursor: default; opacity: .55; }
input, select, textarea { font: inherit; color: inherit; margin: 0; }
a { color: inherit; }
:focus { outline: none; }
:focus-visible { outline: 2px solid var(--brand); outline-offset: 2px; }

.launcher {
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  width: 56px; height: 56px; border-radius: 50%;
  background: var(--brand); color: var(--brand-ink);
  display: flex; align-items: center; justify-content: center;
  box-shadow: 0 6px 20px rgba(16, 24, 40, .22), 0 2px 6px rgba(16, 24, 40, .12);
  transition: transform .18s ease, box-shadow .18s ease;
}
.launcher:hover { transform: translateY(-1px) scale(1.03); box-shadow: 0 10px 26px rgba(16, 24, 40, .26); }
.launcher:focus-visible { outline: 3px solid var(--brand); outline-offset: 3px; }
.launcher .icon { width: 26px; height: 26px; }
.launcher .badge {
  position: absolute; top: -3px; right: -3px; min-width: 20px; height: 20px; padding: 0 6px;
  border-radius: 10px; background: #e5484d; color: #fff; font-size: 11px; font-weight: 700;
  display: flex; align-items: center; justify-content: center; box-shadow: 0 0 0 2px #fff;
}

.panel {
  position: fixed; right: 20px; bottom: 88px; z-index: 2147483001;
  width: 380px; height: 620px; max-height: calc(100vh - 112px);
  display: flex; flex-direction: column; overflow: hidden;
  background: var(--surface); border-radius: var(--radius);
  box-shadow: 0 18px 50px rgba(16, 24, 40, .20), 0 4px 12px rgba(16, 24, 40, .08);
  border: 1px solid rgba(16, 24, 40, .06);
  transform-origin: bottom right;
  animation: pop .18s ease-out;
}
@keyframes pop { from { opacity: 0; transform: translateY(8px) scale(.98); } to { opacity: 1; transform: none; } }
@media (max-width: 480px) {
  .panel { inset: 0; width: 100%; height: 100%; max-height: none; border-radius: 0; border: 0; animation: none; }
  .root.is-open .launcher { display: none; }
}
@media (prefers-reduced-motion: reduce) { .panel { animation: none; } .launcher { transition: none; } }

.head {
  flex: none; display: flex; align-items: center; gap: 10px; padding: 14px 12px 14px 16px;
  background: var(--brand); color: var(--brand-ink);
  background-image: linear-gradient(135deg, rgba(255,255,255,.10), rgba(255,255,255,0) 60%);
}
.head-btn { width: 34px; height: 34px; border-radius: 10px; display: flex; align-items: center; justify-content: center; color: inherit; flex: none; }
.head-btn:hover { background: rgba(255,255,255,.16); }
.head-btn:focus-visible { outline-color: #fff; }
.head-main { flex: 1; min-width: 0; display: flex; align-items: center; gap: 10px; }
.head-text { min-width: 0; }
.head-title { font-size: 16px; font-weight: 650; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.head-sub { font-size: 12.5px; opacity: .88; display: flex; align-items: center; gap: 6px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.dot { width: 8px; height: 8px; border-radius: 50%; background: #4ade80; box-shadow: 0 0 0 2px rgba(255,255,255,.35); flex: none; }
.dot.off { background: #cbd5e1; }
.head-logo { width: 36px; height: 36px; border-radius: 50%; background: rgba(255,255,255,.18); display: flex; align-items: center; justify-content: center; flex: none; }
.avatar {
  width: 36px; height: 36px; border-radius: 50%; background: var(--avatar-bg, #64748b); color: #fff;
  display: inline-flex; align-items: center; justify-content: center; font-weight: 650; font-size: 13.5px; flex: none;
  box-shadow: 0 0 0 2px rgba(255,255,255,.5);
}
.avatar.sm { width: 26px; height: 26px; font-size: 11px; box-shadow: none; }

.banner {
  flex: none; padding: 7px 14px; font-size: 12.5px; font-weight: 550; display: flex; align-items: center; gap: 8px;
  background: var(--warning-bg); color: var(--warning-ink); border-bottom: 1px solid rgba(122, 74, 0, .12);
}
.banner[data-state="connected"] { background: #e7f6ec; color: var(--success); border-bottom-color: rgba(23,122,67,.14); }
.banner[data-state="error"] { background: #fdecec; color: var(--danger); border-bottom-color: rgba(200,51,58,.14); }
.banner .spin { width: 12px; height: 12px; border-radius: 50%; border: 2px solid currentColor; border-right-color: transparent; animation: spin 1s linear infinite; flex: none; }
@keyframes spin { to { transform: rotate(360deg); } }

.body { flex: 1; min-height: 0; overflow-y: auto; background: var(--sunken); overscroll-behavior: contain; position: relative; }
.home { padding: 16px; display: flex; flex-direction: column; gap: 12px; }
.card { background: var(--surface); border-radius: 12px; padding: 14px 16px; box-shadow: 0 1px 2px rgba(16,24,40,.06); border: 1px solid var(--line); }
.greeting { font-size: 15px; white-space: pre-wrap; overflow-wrap: anywhere; }
.offline { display: flex; gap: 10px; align-items: flex-start; background: #f8fafc; }
.offline .icon { color: var(--muted); margin-top: 1px; }
.offline p { margin: 0; }
.offline .expect { color: var(--muted); font-size: 13px; margin-top: 4px; }
.section-title { font-size: 12px; font-weight: 650; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; margin: 4px 2px -4px; }
.history { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 8px; }
.history-item {
  width: 100%; text-align: left; display: flex; gap: 10px; align-items: center; padding: 12px 14px;
  background: var(--surface); border: 1px solid var(--line); border-radius: 12px;
}
.history-item:hover { border-color: #c9d3ea; background: #fbfcff; }
.history-main { flex: 1; min-width: 0; }
.history-subject { font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.history-meta { font-size: 12px; color: var(--muted); display: flex; gap: 8px; align-items: center; }
.pill { font-size: 11px; font-weight: 600; padding: 1px 8px; border-radius: 999px; background: #eef1f5; color: var(--muted); }
.pill[data-status="open"], .pill[data-status="pending"] { background: #eaf0ff; color: #2346c0; }
.pill[data-status="resolved"] { background: #e7f6ec; color: var(--success); }
.unread-dot { width: 9px; height: 9px; border-radius: 50%; background: #e5484d; flex: none; }
.btn-primary {
  display: inline-flex; align-items: center; justify-content: center; gap: 8px; padding: 10px 16px; border-radius: 10px;
  background: var(--brand); color: var(--brand-ink); font-weight: 600;
}
.btn-primary:hover { filter: brightness(1.06); }
.btn-secondary { display: inline-flex; align-items: center; gap: 6px; padding: 8px 14px; border-radius: 10px; border: 1px solid var(--line); background: var(--surface); font-weight: 550; }
.btn-secondary:hover { background: var(--sunken); }
.btn-link { color: var(--brand); font-weight: 600; text-decoration: underline; text-underline-offset: 2px; }

.chat { padding: 14px 14px 8px; display: flex; flex-direction: column; gap: 10px; min-height: 100%; }
.messages { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 10px; }
.msg { display: flex; gap: 8px; align-items: flex-end; max-width: 100%; }
.msg-customer { flex-direction: row-reverse; }
.msg-col { display: flex; flex-direction: column; max-width: 78%; min-width: 0; }
.msg-customer .msg-col { align-items: flex-end; }
.msg-author { font-size: 12px; color: var(--muted); margin: 0 4px 3px; }
.bubble {
  padding: 9px 13px; border-radius: 16px; background: var(--surface); border: 1px solid var(--line);
  white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word;
}
.msg-agent .bubble, .msg-bot .bubble { border-bottom-left-radius: 6px; }
.msg-customer .bubble { background: var(--brand); color: var(--brand-ink); border-color: transparent; border-bottom-right-radius: 6px; }
.msg-customer .bubble a { color: inherit; }
.bubble:empty { display: none; }
.msg-system { justify-content: center; }
.msg-system .msg-col { max-width: 90%; align-items: center; }
.msg-system .bubble { background: transparent; border: 0; color: var(--muted); font-size: 12.5px; text-align: center; padding: 2px 8px; }
.msg-meta { font-size: 11.5px; color: var(--subtle); margin: 3px 4px 0; display: flex; gap: 4px; align-items: center; }
.msg-meta .icon { width: 14px; height: 14px; }
.msg[data-state="read"] .state { color: var(--brand); }
.msg[data-state="failed"] .state { color: var(--danger); }
.msg-error { font-size: 12px; color: var(--danger); margin: 3px 4px 0; text-align: right; }
.link-warns { display: flex; flex-direction: column; gap: 4px; margin-top: 6px; max-width: 100%; }
.link-warn { display: flex; gap: 6px; align-items: flex-start; font-size: 12.5px; line-height: 1.4; padding: 6px 10px; border-radius: 10px; border: 1px solid; text-align: left; overflow-wrap: anywhere; }
.link-warn .icon { width: 15px; height: 15px; flex: none; margin-top: 1px; }
.link-warn-danger { background: #fdecec; color: var(--danger); border-color: rgba(200,51,58,.25); font-weight: 600; }
.link-warn-caution { background: var(--warning-bg); color: var(--warning-ink); border-color: rgba(122,74,0,.18); }
.link-blocked { text-decoration: line-through; text-decoration-thickness: 1px; }
.atts { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; }
.msg-customer .atts { justify-content: flex-end; }
.article-card { display: flex; align-items: flex-start; gap: 8px; margin-top: 6px; padding: 8px 12px; border-radius: 12px; border: 1px solid var(--line); background: var(--surface); color: var(--ink); text-decoration: none; max-width: 100%; }
.article-card:hover { background: var(--sunken); }
.article-card .icon { width: 16px; height: 16px; margin-top: 2px; color: var(--brand); flex: none; }
.article-card-title { font-weight: 600; overflow-wrap: anywhere; }
.quick-replies { list-style: none; display: flex; flex-wrap: wrap; gap: 6px; padding-left: 36px; }
.quick-reply { padding: 6px 12px; border-radius: 999px; border: 1px solid var(--brand); background: var(--surface); color: var(--brand); font-weight: 600; font-size: 13px; cursor: pointer; }
.quick-reply:hover { background: var(--sunken); }
.att-img { display: block; border-radius: 12px; overflow: hidden; border: 1px solid var(--line); background: #fff; line-height: 0; cursor: zoom-in; }
.att-img img { display: block; max-width: 220px; max-height: 200px; min-width: 40px; min-height: 40px; object-fit: cover; }
.att-file {
  display: flex; align-items: center; gap: 8px; padding: 8px 12px; border-radius: 12px; background: var(--surface);
  border: 1px solid var(--line); text-decoration: none; max-width: 240px;
}
.att-file:hover { background: #fbfcff; border-color: #c9d3ea; }
.att-name { font-weight: 550; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; min-width: 0; }
.att-size { font-size: 12px; color: var(--muted); flex: none; }
.msg.is-pending .att-img { opacity: .7; }

.notice { font-size: 13px; padding: 10px 12px; border-radius: 12px; background: var(--surface); border: 1px solid var(--line); display: flex; gap: 8px; align-items: flex-start; }
.notice .icon { width: 18px; height: 18px; color: var(--muted); margin-top: 1px; }
.notice.queue { background: #f1f5ff; border-color: #d9e2fb; color: #213a91; }
.notice.queue .icon { color: #3456d1; }
.notice.closed { flex-direction: column; align-items: center; text-align: center; }
.typing { font-size: 12.5px; color: var(--muted); display: flex; align-items: center; gap: 8px; padding: 0 4px; }
.typing-dots { display: inline-flex; gap: 3px; padding: 8px 10px; background: var(--surface); border: 1px solid var(--line); border-radius: 14px; }
.typing-dots i { width: 6px; height: 6px; border-radius: 50%; background: var(--subtle); animation: blink 1.2s infinite ease-in-out; }
.typing-dots i:nth-child(2) { animation-delay: .15s; }
.typing-dots i:nth-child(3) { animation-delay: .3s; }
@keyframes blink { 0%, 80%, 100% { opacity: .3; transform: translateY(0); } 40% { opacity: 1; transform: translateY(-2px); } }

.csat { display: flex; flex-direction: column; gap: 10px; align-items: stretch; text-align: center; }
.csat-q { font-weight: 600; }
.stars { display: flex; justify-content: center; gap: 4px; }
.star { width: 38px; height: 38px; border-radius: 10px; color: #c5cbd6; display: flex; align-items: center; justify-content: center; }
.star .icon { width: 28px; height: 28px; fill: currentColor; stroke-width: 1.2; }
.star:hover, .star.on { color: #f5a524; }
.star:hover { background: #fff8e6; }
.csat textarea { width: 100%; min-height: 60px; resize: vertical; border: 1px solid var(--line); border-radius: 10px; padding: 8px 10px; background: #fff; }
.csat textarea:focus { border-color: var(--brand); box-shadow: 0 0 0 3px rgba(41,82,227,.14); }
.csat-done { color: var(--success); font-weight: 600; }
.csat-stars-static { color: #f5a524; letter-spacing: 2px; font-size: 18px; }

.foot { flex: none; border-top: 1px solid var(--line); background: var(--surface); padding: 10px 12px 12px; display: flex; flex-direction: column; gap: 8px; }
.prechat { display: grid; gap: 8px; }
.prechat-intro { font-size: 12.5px; color: var(--muted); }
.field { display: flex; flex-direction: column; gap: 3px; }
.field label { font-size: 12px; font-weight: 600; color: var(--muted); }
.field input, .field select {
  width: 100%; height: 36px; border: 1px solid var(--line); border-radius: 9px; padding: 0 10px; background: #fff;
}
.field input:focus, .field select:focus { border-color: var(--brand); box-shadow: 0 0 0 3px rgba(41,82,227,.14); }
.field input[aria-invalid="true"] { border-color: var(--danger); }
.field-error { font-size: 12px; color: var(--danger); }
.form-error { font-size: 12.5px; color: var(--danger); display: flex; gap: 6px; align-items: center; }
.compose { display: flex; align-items: flex-end; gap: 6px; border: 1px solid var(--line); border-radius: 14px; padding: 4px 4px 4px 6px; background: #fff; }
.compose:focus-within { border-color: var(--brand); box-shadow: 0 0 0 3px rgba(41,82,227,.14); }
.compose textarea {
  flex: 1; min-width: 0; border: 0; resize: none; background: transparent; padding: 7px 4px; max-height: 120px; min-height: 36px;
  line-height: 1.4; font-size: 14px;
}
.compose textarea:focus-visible { outline: none; }
.icon-btn { width: 36px; height: 36px; border-radius: 10px; display: flex; align-items: center; justify-content: center; color: var(--muted); flex: none; }
.icon-btn:hover:not(:disabled) { background: var(--sunken); color: var(--ink); }
.send-btn { background: var(--brand); color: var(--brand-ink); }
.send-btn:hover:not(:disabled) { background: var(--brand); color: var(--brand-ink); filter: brightness(1.08); }
.suggest { border: 1px solid var(--line); border-radius: 12px; background: var(--surface); overflow: hidden; }
.suggest-head { display: flex; align-items: center; justify-content: space-between; gap: 8px; padding: 4px 4px 0 10px; }
.suggest-heading { font-size: 11.5px; font-weight: 650; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.suggest-close { width: 26px; height: 26px; border-radius: 8px; display: flex; align-items: center; justify-content: center; color: var(--subtle); flex: none; }
.suggest-close:hover { background: var(--sunken); color: var(--ink); }
.suggest-close:focus-visible { outline-offset: -2px; }
.suggest-close .icon { width: 14px; height: 14px; stroke-width: 2.2; }
.suggest-list { list-style: none; margin: 0; padding: 0 4px 4px; display: flex; flex-direction: column; }
.suggest-link { display: flex; align-items: flex-start; gap: 8px; padding: 6px 8px; border-radius: 8px; text-decoration: none; color: var(--ink); min-width: 0; }
.suggest-link:hover { background: var(--sunken); }
.suggest-link:focus-visible { outline-offset: -2px; background: var(--sunken); }
.suggest-link .icon { width: 16px; height: 16px; margin-top: 1px; color: var(--brand); }
.suggest-text { flex: 1; min-width: 0; display: flex; flex-direction: column; }
.suggest-name, .suggest-summary { display: block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.suggest-name { font-size: 13px; font-weight: 600; line-height: 1.35; }
.suggest-link:hover .suggest-name { color: var(--brand); }
.suggest-summary { font-size: 12px; color: var(--muted); line-height: 1.35; }
.home-part { display: contents; }
.help { display: flex; flex-direction: column; gap: 8px; padding: 12px; }
.help-field { position: relative; display: flex; align-items: center; }
.help-field .icon { position: absolute; left: 11px; width: 18px; height: 18px; color: var(--subtle); pointer-events: none; }
.help-input {
  width: 100%; height: 40px; border: 1px solid var(--line); border-radius: 10px; padding: 0 12px 0 36px; background: var(--sunken);
  font-size: 14px; -webkit-appearance: none; appearance: none;
}
.help-input::placeholder { color: var(--subtle); }
.help-input:focus { border-color: var(--brand); box-shadow: 0 0 0 3px rgba(41,82,227,.14); background: #fff; }
.help-input:focus-visible { outline: none; }
.help .suggest-list { padding: 0; margin: 0 -4px; }
.help-empty { font-size: 13px; color: var(--muted); padding: 0 2px; overflow-wrap: anywhere; }
.file-input { position: absolute; width: 1px; height: 1px; opacity: 0; pointer-events: none; }
.check-slot:empty { display: none; }
.check { display: flex; flex-direction: column; gap: 6px; padding: 10px 12px; border-radius: 12px; background: #f5f8ff; border: 1px solid #d9e2fb; }
.check-head { display: flex; align-items: center; gap: 8px; font-weight: 650; color: #213a91; }
.check-head .icon { width: 18px; height: 18px; color: var(--brand); }
.check-text { font-size: 13px; overflow-wrap: anywhere; }
.check-for { font-size: 12.5px; color: var(--muted); overflow-wrap: anywhere; }
.check-row { display: flex; gap: 6px; align-items: stretch; }
.check-code {
  flex: 1; min-width: 0; height: 40px; border: 1px solid var(--line); border-radius: 10px; padding: 0 10px; background: #fff;
  font-size: 18px; letter-spacing: .3em; text-align: center; font-variant-numeric: tabular-nums;
}
.check-code::placeholder { color: var(--subtle); letter-spacing: .3em; }
.check-code:focus { border-color: var(--brand); box-shadow: 0 0 0 3px rgba(41,82,227,.14); }
.check-code[aria-invalid="true"] { border-color: var(--danger); }
.check .btn-primary { padding: 8px 14px; flex: none; }
.check-signin { align-self: flex-start; }
.check-signin .icon { width: 18px; height: 18px; }
.check-meta { font-size: 12px; color: var(--muted); display: flex; flex-wrap: wrap; gap: 4px 10px; }
.check-error { font-size: 12.5px; color: var(--danger); display: flex; gap: 6px; align-items: flex-start; }
.check-error .icon { width: 15px; height: 15px; flex: none; margin-top: 1px; }
.check-never { font-size: 11.5px; color: var(--muted); }
.check-done { display: flex; gap: 8px; align-items: center; padding: 9px 12px; border-radius: 12px; font-weight: 600; font-size: 13px; background: #e7f6ec; color: var(--success); border: 1px solid rgba(23,122,67,.18); }
.check-done .icon { width: 18px; height: 18px; }
.powered { text-align: center; font-size: 11px; color: var(--subtle); }

.drop {
  position: absolute; inset: 0; z-index: 5; display: flex; align-items: center; justify-content: center;
  background: rgba(41, 82, 227, .08); border: 2px dashed var(--brand); border-radius: var(--radius);
  color: var(--brand); font-weight: 600; pointer-events: none;
}
.lightbox {
  position: absolute; inset: 0; z-index: 10; background: rgba(10, 14, 24, .86); display: flex; align-items: center; justify-content: center; padding: 44px 12px 12px;
}
.lightbox img { max-width: 100%; max-height: 100%; border-radius: 8px; background: #fff; }
.lightbox .head-btn { position: absolute; top: 8px; right: 8px; color: #fff; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.loading { color: var(--muted); font-size: 13px; text-align: center; padding: 12px; }
`;

  // --- The DOM --------------------------------------------------------------------------------

  const hostEl = document.createElement('kefu-chat');
  hostEl.setAttribute('data-kefu-widget', '');
  const shadow = hostEl.attachShadow({ mode: 'open' });
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } catch {
    shadow.append(h('style', null, CSS)); // older browsers
  }

  const ui = {};
  const root = h('div', { class: 'root', dir: 'ltr' });
  const brand = attr('data-color') || preset.color;
  if (brand && /^(#[0-9a-f]{3,8}|rgb\(|hsl\()/i.test(brand)) root.style.setProperty('--brand', brand);

  ui.badge = h('span', { class: 'badge', testid: 'kefu-unread', hidden: true });
  ui.launcherIcon = h('span', { class: 'launcher-icon' });
  ui.launcher = h('button', {
    type: 'button', class: 'launcher', testid: 'kefu-launcher', 'aria-expanded': 'false', 'aria-haspopup': 'dialog',
    onClick: () => (state.open ? close() : open()),
  }, ui.launcherIcon, ui.badge);

  ui.back = h('button', { type: 'button', class: 'head-btn', testid: 'kefu-back', onClick: () => showHome(true) }, icon('back'));
  ui.headMain = h('div', { class: 'head-main' });
  ui.closeBtn = h('button', { type: 'button', class: 'head-btn', testid: 'kefu-close', onClick: () => close() }, icon('chevronDown'));
  ui.head = h('header', { class: 'head' }, ui.back, ui.headMain, ui.closeBtn);
  ui.banner = h('div', { class: 'banner', testid: 'kefu-status', role: 'status', 'aria-live': 'polite', hidden: true });

  ui.home = h('div', { class: 'home', testid: 'kefu-home' });
  // The home view's parts: the greeting, the help-center search card (see "Help-center search"
  // below), then "New conversation" and the earlier chats. The card is kept across renders, so
  // that what was typed, and the focus, stay while the rest is redrawn.
  ui.homeIntro = h('div', { class: 'home-part' });
  ui.homeMain = h('div', { class: 'home-part' });
  ui.helpLabel = h('label', { for: 'kc-help-q', class: 'sr-only' });
  ui.helpInput = h('input', {
    type: 'search', id: 'kc-help-q', class: 'help-input', testid: 'kefu-help-search', autocomplete: 'off',
    maxlength: '200', enterkeyhint: 'search', spellcheck: 'false', 'aria-controls': 'kc-help-results',
  });
  ui.helpStatus = h('div', { class: 'sr-only', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true', testid: 'kefu-help-status' });
  ui.helpResults = h('ul', { class: 'suggest-list', id: 'kc-help-results', testid: 'kefu-help-results', hidden: true });
  ui.helpEmpty = h('div', { class: 'help-empty', testid: 'kefu-help-empty', hidden: true });
  ui.helpNewTab = h('span', { class: 'sr-only', id: 'kc-help-newtab' });
  ui.help = h('div', { class: 'card help', role: 'search', testid: 'kefu-help' },
    ui.helpLabel, h('div', { class: 'help-field' }, icon('search'), ui.helpInput),
    ui.helpStatus, ui.helpResults, ui.helpEmpty, ui.helpNewTab);
  ui.messages = h('ol', { class: 'messages', testid: 'kefu-messages', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  ui.chatTop = h('div', { class: 'chat-top' });
  ui.typing = h('div', { class: 'typing', testid: 'kefu-typing', hidden: true, 'aria-live': 'polite' });
  ui.chatBottom = h('div', { class: 'chat-bottom' });
  ui.chat = h('div', { class: 'chat', testid: 'kefu-chat' }, ui.chatTop, ui.messages, ui.typing, ui.chatBottom);
  ui.body = h('div', { class: 'body' }, ui.home, ui.chat);

  // The pre-chat form: kept across renders so that what was typed stays.
  ui.preName = h('input', { type: 'text', id: 'kc-name', autocomplete: 'name', maxlength: '120', testid: 'kefu-prechat-name' });
  ui.preEmail = h('input', { type: 'email', id: 'kc-email', autocomplete: 'email', maxlength: '254', testid: 'kefu-prechat-email' });
  ui.preTopic = h('select', { id: 'kc-topic', testid: 'kefu-prechat-topic' });
  ui.preEmailError = h('div', { class: 'field-error', id: 'kc-email-error', hidden: true, testid: 'kefu-prechat-email-error' });
  ui.preIntro = h('div', { class: 'prechat-intro', id: 'kc-prechat-intro', testid: 'kefu-prechat-intro' });
  ui.preNameLabel = h('label', { for: 'kc-name' });
  ui.preEmailLabel = h('label', { for: 'kc-email' });
  ui.preTopicLabel = h('label', { for: 'kc-topic' });
  ui.preNameField = h('div', { class: 'field' }, ui.preNameLabel, ui.preName);
  ui.preEmailField = h('div', { class: 'field' }, ui.preEmailLabel, ui.preEmail, ui.preEmailError);
  ui.preTopicField = h('div', { class: 'field' }, ui.preTopicLabel, ui.preTopic);
  ui.prechat = h('div', { class: 'prechat', testid: 'kefu-prechat', hidden: true },
    ui.preIntro, ui.preNameField, ui.preEmailField, ui.preTopicField);
  ui.preEmail.addEventListener('input', () => {
    ui.preEmailError.hidden = true;
    ui.preEmail.removeAttribute('aria-invalid');
    describeEmail();
  });
  // The e-mail input is described by the line above the form (when shown) and by its error.
  function describeEmail() {
    const ids = [!ui.preIntro.hidden && 'kc-prechat-intro', !ui.preEmailError.hidden && 'kc-email-error'].filter(Boolean);
    if (ids.length) ui.preEmail.setAttribute('aria-describedby', ids.join(' '));
    else ui.preEmail.removeAttribute('aria-describedby');
  }

  ui.formError = h('div', { class: 'form-error', testid: 'kefu-error', role: 'alert', hidden: true });
  ui.fileInput = h('input', { type: 'file', multiple: true, class: 'file-input', tabindex: '-1', 'aria-hidden': 'true', testid: 'kefu-file-input' });
  ui.attach = h('button', { type: 'button', class: 'icon-btn', testid: 'kefu-attach', onClick: () => ui.fileInput.click() }, icon('clip'));
  ui.input = h('textarea', { rows: '1', testid: 'kefu-input', maxlength: '50000' });
  ui.send = h('button', { type: 'submit', class: 'icon-btn send-btn', testid: 'kefu-send' }, icon('send'));
  ui.compose = h('form', { class: 'compose', novalidate: true, onSubmit: (e) => { e.preventDefault(); submit(); } },
    ui.attach, ui.input, ui.send, ui.fileInput);
  // Help-center articles that may answer what is being typed (see "Suggested articles" below).
  ui.suggestHeading = h('div', { class: 'suggest-heading', 'aria-hidden': 'true' });
  ui.suggestClose = h('button', { type: 'button', class: 'suggest-close', testid: 'kefu-suggestions-close', onClick: () => dismissSuggestions() }, icon('close'));
  ui.suggestList = h('ul', { class: 'suggest-list' });
  ui.suggestNewTab = h('span', { class: 'sr-only', id: 'kc-suggest-newtab' });
  ui.suggest = h('div', { class: 'suggest', role: 'region', testid: 'kefu-suggestions', hidden: true },
    h('div', { class: 'suggest-head' }, ui.suggestHeading, ui.suggestClose), ui.suggestList, ui.suggestNewTab);
  // The identity check an agent asked for (see "Identity checks" below). Its parts are kept
  // across renders, so that a half-typed code and the focus stay; only the card that applies is
  // in the slot (none, the question, or "Identity confirmed").
  ui.checkTitle = h('span', { id: 'kc-check-title' });
  ui.checkWhy = h('div', { class: 'check-text', testid: 'check-why' });
  ui.checkFor = h('div', { class: 'check-for', testid: 'check-reason' });
  ui.checkHow = h('div', { class: 'check-text', id: 'kc-check-how', testid: 'check-how' });
  ui.checkCodeLabel = h('label', { for: 'kc-check-code', class: 'sr-only' });
  ui.checkCode = h('input', {
    type: 'text', id: 'kc-check-code', class: 'check-code', testid: 'check-code', inputmode: 'numeric',
    autocomplete: 'one-time-code', enterkeyhint: 'done', spellcheck: 'false', placeholder: '000000',
    'aria-describedby': 'kc-check-how kc-check-error',
  });
  ui.checkSubmit = h('button', { type: 'submit', class: 'btn-primary', testid: 'check-submit' });
  ui.checkForm = h('form', { class: 'check-row', novalidate: true, onSubmit: (e) => { e.preventDefault(); submitCheckCode(); } },
    ui.checkCodeLabel, ui.checkCode, ui.checkSubmit);
  ui.checkSignIn = h('button', { type: 'button', class: 'btn-primary check-signin', testid: 'check-submit', onClick: () => confirmSignIn() });
  ui.checkActions = h('div', { class: 'check-actions' });
  ui.checkMeta = h('div', { class: 'check-meta', testid: 'check-meta' });
  ui.checkError = h('div', { class: 'check-error', id: 'kc-check-error', testid: 'check-error', role: 'alert', hidden: true });
  ui.checkNever = h('div', { class: 'check-never' });
  ui.check = h('section', { class: 'check', testid: 'check-card', 'aria-labelledby': 'kc-check-title' },
    h('div', { class: 'check-head' }, icon('shield'), ui.checkTitle),
    ui.checkWhy, ui.checkFor, ui.checkHow, ui.checkActions, ui.checkMeta, ui.checkError, ui.checkNever);
  ui.checkDone = h('div', { class: 'check-done', testid: 'check-confirmed', role: 'status' });
  ui.checkSlot = h('div', { class: 'check-slot' });
  ui.checkCode.addEventListener('input', () => {
    // Digits only (a pasted "123 456" or "123-456" too), at most six.
    const digits = ui.checkCode.value.replace(/\D/g, '').slice(0, 6);
    if (digits !== ui.checkCode.value) ui.checkCode.value = digits;
    if (checkUi.error) {
      checkUi.error = null;
      renderCheck();
    }
  });

  ui.foot = h('footer', { class: 'foot' }, ui.checkSlot, ui.prechat, ui.formError, ui.suggest, ui.compose);

  ui.drop = h('div', { class: 'drop', hidden: true });
  ui.lightbox = h('div', { class: 'lightbox', hidden: true, role: 'dialog', 'aria-modal': 'true', testid: 'kefu-lightbox' });
  ui.panel = h('section', { class: 'panel', role: 'dialog', 'aria-modal': 'false', testid: 'kefu-panel', hidden: true, id: 'kc-panel' },
    ui.head, ui.banner, ui.body, ui.foot, ui.drop, ui.lightbox);
  ui.launcher.setAttribute('aria-controls', 'kc-panel');
  root.append(ui.panel, ui.launcher);
  shadow.append(root);

  // --- Rendering ------------------------------------------------------------------------------

  const isAnonymous = () => !identity;
  const activeConv = () => (state.activeId ? state.convs.get(state.activeId) : null);
  const online = () => !state.config || state.config.online !== false;
  const isEnded = (c) => c && (c.status === 'resolved' || c.status === 'closed');

  function greetingText() {
    const g = state.config && state.config.greeting;
    return (g && (g[lang] || '').trim()) || T().greeting;
  }

  function offlineText() {
    const m = state.config && state.config.offline_message;
    return (m && (m[lang] || '').trim()) || T().offlineDefault;
  }

  function expectText() {
    const c = state.config || {};
    if (c.next_open_at) {
      const when = formatWhen(c.next_open_at);
      if (when) return T().backAt(when);
    }
    if (c.reply_within_hours > 0) return T().replyWithin(c.reply_within_hours);
    return '';
  }

  function needPrechat() {
    if (state.view !== 'chat' || state.activeId || !isAnonymous()) return null;
    if (state.pending.some((p) => !p.conversation_id)) return null; // the chat is already starting
    const form = !!(state.config && state.config.prechat_form);
    const emailRequired = !online();
    if (!form && !emailRequired) return null;
    // Offline, replies the visitor misses are mailed to the address too (when the server says so).
    const followUp = emailRequired && !!state.config.email_follow_up;
    return { form, emailRequired, followUp };
  }

  function unreadCount(convId) {
    let n = 0;
    const ids = convId ? [convId] : [...state.msgs.keys()];
    for (const id of ids) {
      const c = state.convs.get(id);
      const m = state.msgs.get(id);
      if (!c || !m) continue;
      const mark = Math.max(c.customer_read_seq || 0, c.readSent || 0);
      for (const msg of m.values()) if (msg.author_kind !== 'customer' && msg.seq > mark) n += 1;
    }
    return n;
  }

  function render() {
    const t = T();
    const conv = activeConv();
    root.classList.toggle('is-open', state.open);
    root.setAttribute('lang', lang);

    // Launcher and badge.
    ui.launcherIcon.replaceChildren(icon(state.open ? 'close' : 'chat'));
    ui.launcher.setAttribute('aria-label', state.open ? t.closeChat : t.openChat);
    ui.launcher.setAttribute('aria-expanded', String(state.open));
    const unread = unreadCount();
    ui.badge.hidden = unread === 0;
    ui.badge.textContent = unread > 99 ? '99+' : String(unread);
    ui.badge.setAttribute('aria-label', t.unread(unread));

    // Header: the agent once one has the chat, else the team.
    ui.panel.hidden = !state.open;
    ui.panel.dataset.config = state.config ? 'loaded' : 'none';
    ui.panel.setAttribute('aria-label', t.title);
    ui.back.hidden = !(state.view === 'chat' && state.order.length > 0);
    ui.back.setAttribute('aria-label', t.back);
    ui.closeBtn.setAttribute('aria-label', t.minimize);
    const title = attr('data-title') || preset.title || t.title;
    if (state.view === 'chat' && conv && conv.agent_name) {
      ui.headMain.replaceChildren(avatar(conv.agent_name),
        h('div', { class: 'head-text' },
          h('div', { class: 'head-title', testid: 'kefu-agent-name' }, conv.agent_name),
          h('div', { class: 'head-sub' }, t.handledBy)));
    } else {
      ui.headMain.replaceChildren(h('span', { class: 'head-logo' }, icon('chat')),
        h('div', { class: 'head-text' },
          h('div', { class: 'head-title' }, title),
          h('div', { class: 'head-sub', testid: 'kefu-availability', dataset: { online: String(online()) } },
            h('span', { class: ['dot', !online() && 'off'] }), online() ? t.subtitleOnline : t.subtitleOffline)));
    }

    // Connection banner.
    if (state.banner) {
      ui.banner.hidden = false;
      ui.banner.dataset.state = state.banner.kind;
      ui.banner.replaceChildren(
        state.banner.kind === 'reconnecting' ? h('span', { class: 'spin', 'aria-hidden': 'true' }) : icon(state.banner.kind === 'error' ? 'alert' : 'check'),
        h('span', null, state.banner.text));
    } else {
      ui.banner.hidden = true;
      ui.banner.dataset.state = '';
    }

    ui.home.hidden = state.view !== 'home';
    ui.chat.hidden = state.view !== 'chat';
    // Only the visible view has content (test ids and screen readers see one of each).
    if (state.view === 'home') {
      ui.chatTop.replaceChildren();
      ui.messages.replaceChildren();
      ui.chatBottom.replaceChildren();
      ui.typing.hidden = true;
      renderHome();
    } else {
      ui.home.replaceChildren();
      homeSig = '';
      renderChat();
    }
    renderFoot();
  }

  function offlineCard() {
    const expect = expectText();
    return h('div', { class: 'card offline', testid: 'kefu-offline' }, icon('moon'),
      h('div', null, h('p', null, offlineText()), expect ? h('p', { class: 'expect', testid: 'kefu-expect' }, expect) : null));
  }

  let homeSig = '';
  function renderHome() {
    const t = T();
    if (ui.home.firstChild !== ui.homeIntro) ui.home.replaceChildren(ui.homeIntro, ui.help, ui.homeMain);
    renderHelp();
    const items = state.order.map((id) => state.convs.get(id)).filter(Boolean);
    const sig = JSON.stringify([lang, online(), greetingText(), expectText(), offlineText(),
      items.map((c) => [c.id, c.status, c.subject, c.agent_name, c.last_activity_at, unreadCount(c.id)])]);
    if (sig === homeSig) return;
    homeSig = sig;
    ui.homeIntro.replaceChildren(
      h('div', { class: 'card greeting', testid: 'kefu-greeting' }, greetingText()),
      online() ? null : offlineCard(),
    );
    ui.homeMain.replaceChildren(
      h('button', { type: 'button', class: 'btn-primary', testid: 'kefu-new-conversation', onClick: () => startNew() },
        icon('plus'), t.newConversation),
      items.length ? h('div', { class: 'section-title' }, t.recent) : null,
      items.length ? h('ul', { class: 'history', testid: 'kefu-history' }, items.map((c) => {
        const n = unreadCount(c.id);
        return h('li', null, h('button', {
          type: 'button', class: 'history-item', testid: 'kefu-history-item', dataset: { id: c.id, status: c.status },
          onClick: () => openConversation(c.id),
        },
        c.agent_name ? avatar(c.agent_name, 'sm') : h('span', { class: 'avatar sm', 'aria-hidden': 'true' }, icon('chat')),
        h('span', { class: 'history-main' },
          h('span', { class: 'history-subject' }, c.subject || `${t.noSubject} #${c.number}`),
          h('span', { class: 'history-meta' },
            h('span', { class: 'pill', dataset: { status: c.status } }, t.status[c.status] || c.status),
            h('span', null, formatTime(c.last_activity_at)))),
        n ? h('span', { class: 'unread-dot', 'aria-label': t.unread(n) }) : null));
      })) : null,
    );
  }

  // Message elements are kept by key and rebuilt only when what they show changes, so images
  // are not reloaded and the list does not flicker.
  const msgCache = new Map();

  function messageItems(convId) {
    const list = [];
    const m = convId ? state.msgs.get(convId) : null;
    if (m) for (const msg of m.values()) list.push({ kind: 'msg', msg });
    list.sort((a, b) => a.msg.seq - b.msg.seq);
    for (const p of state.pending) if ((p.conversation_id || null) === (convId || null)) list.push({ kind: 'pending', msg: p });
    return list;
  }

  function deliveryState(msg, conv) {
    if (msg.state && msg.state !== 'sent') return msg.state; // uploading | sending | waiting | failed
    if (conv && msg.seq && msg.seq <= (conv.agent_read_seq || 0)) return 'read';
    return 'sent';
  }

  function renderMessage(item, conv) {
    const t = T();
    const msg = item.msg;
    const kind = item.kind === 'pending' ? 'customer' : (msg.author_kind || 'agent');
    const dstate = kind === 'customer' ? deliveryState(msg, conv) : null;
    const key = msg.client_id ? `c:${msg.client_id}` : `m:${msg.id}`;
    const article = kind === 'bot' ? articleOf(msg) : null;
    const links = shieldLinks(msg);
    const sig = JSON.stringify([lang, kind, msg.seq || 0, dstate, msg.error || '', msg.body, (msg.attachments || []).length, msg.author_name || '',
      article ? [article.title, article.href] : null, links]);
    const cached = msgCache.get(key);
    if (cached && cached.sig === sig) return cached.el;

    const atts = (msg.attachments || []).map((a) => attachmentEl(a));
    const stateLabel = { uploading: t.uploading, sending: t.sending, waiting: t.sending, failed: t.failed, sent: t.sent, read: t.read }[dstate];
    const stateIcon = { sent: 'check', read: 'checks', failed: 'alert' }[dstate] || 'clock';
    const el = h('li', {
      class: ['msg', `msg-${kind}`, item.kind === 'pending' && 'is-pending'], testid: 'kefu-message',
      dataset: { seq: msg.seq || null, author: kind, state: dstate, clientId: msg.client_id || null, id: msg.id || null },
    },
    kind === 'agent' || kind === 'bot' ? avatar(msg.author_name || '', 'sm') : null,
    h('div', { class: 'msg-col' },
      kind !== 'customer' && kind !== 'system' ? h('div', { class: 'msg-author', testid: 'kefu-message-author' }, msg.author_name || t.title) : null,
      h('div', { class: 'bubble', testid: 'kefu-message-body' }, richText(msg.body || '', blockedHosts(links))),
      atts.length ? h('div', { class: 'atts' }, atts) : null,
      linkWarnings(links),
      article ? h('a', {
        class: 'article-card', href: article.href, target: '_blank', rel: 'noopener', testid: 'kefu-article-card',
        dataset: { id: article.id || null },
      }, icon('file'), h('span', { class: 'article-card-title' }, article.title)) : null,
      kind === 'system' ? null : h('div', { class: 'msg-meta' },
        h('span', null, formatTime(msg.created_at)),
        kind === 'customer' ? [h('span', { 'aria-hidden': 'true' }, '·'),
          h('span', { class: 'state', testid: 'kefu-delivery', dataset: { state: dstate } }, icon(stateIcon), stateLabel)] : null),
      msg.error ? h('div', { class: 'msg-error', testid: 'kefu-message-error' }, msg.error,
        msg.state === 'failed' && msg.retryable ? [' ', h('button', { type: 'button', class: 'btn-link', onClick: () => retry(msg) }, t.retry)] : null) : null));
    msgCache.set(key, { sig, el });
    return el;
  }

  /** The links of a message the shield warns about: lookalikes, and shortened links. */
  function shieldLinks(msg) {
    const list = msg && msg.shield && Array.isArray(msg.shield.links) ? msg.shield.links : [];
    return list
      .filter((l) => l && typeof l.host === 'string' && (l.verdict === 'lookalike' || (l.verdict === 'unknown' && l.reason === 'shortener')))
      .map((l) => ({ url: String(l.url || ''), host: l.host, verdict: l.verdict, of: l.lookalike_of || null, reason: l.reason || null }));
  }

  function blockedHosts(links) {
    const out = new Set();
    for (const l of links) {
      if (l.verdict !== 'lookalike') continue;
      for (const hst of [hostOf(l.host), hostOf(l.url)]) if (hst) out.add(hst);
    }
    return out;
  }

  /** One line per warning under the message: red for a lookalike, amber for a shortened link. */
  function linkWarnings(links) {
    if (!links.length) return null;
    const t = T();
    const seen = new Set();
    const lines = [];
    for (const l of links) {
      const lookalike = l.verdict === 'lookalike';
      const text = lookalike ? t.linkLookalike(l.of || l.host) : t.linkShortener;
      if (seen.has(text)) continue;
      seen.add(text);
      lines.push(h('div', {
        class: ['link-warn', lookalike ? 'link-warn-danger' : 'link-warn-caution'], role: lookalike ? 'alert' : 'note',
        testid: 'kefu-link-warning', dataset: { verdict: l.verdict, host: l.host, reason: l.reason, lookalikeOf: l.of },
      }, icon('alert'), h('span', null, text)));
    }
    return h('div', { class: 'link-warns' }, lines);
  }

  /** The help-center article a bot message points to ({id, title, href}), or null. */
  function articleOf(msg) {
    const art = msg && msg.actions && msg.actions.article;
    if (!art || typeof art.url !== 'string' || !art.url) return null;
    const href = abs(art.url);
    if (!/^https?:/i.test(href)) return null;
    return { id: art.id ? String(art.id) : null, title: String(art.title || art.url), href };
  }

  // Quick replies: the buttons of the last bot message, until anything follows it or one is used.
  const usedQuickReplies = new Set();

  function quickRepliesEl(items) {
    const last = items[items.length - 1];
    if (!last || last.kind !== 'msg') return null;
    const msg = last.msg;
    if (msg.author_kind !== 'bot' || !msg.actions || !Array.isArray(msg.actions.buttons)) return null;
    const key = msg.id || `${msg.conversation_id}:${msg.seq}`;
    if (usedQuickReplies.has(key)) return null;
    const labels = msg.actions.buttons.filter((b) => typeof b === 'string' && b.trim());
    if (!labels.length) return null;
    return h('li', { class: 'quick-replies', testid: 'kefu-quick-replies' }, labels.map((label) => h('button', {
      type: 'button', class: 'quick-reply', testid: 'kefu-quick-reply',
      onClick: () => {
        if (state.conn === 'fatal') return;
        usedQuickReplies.add(key);
        enqueue({ body: label });
        ui.input.focus();
      },
    }, label)));
  }

  function attachmentEl(a) {
    const t = T();
    if (a.inline && (a.url || a.localUrl)) {
      const full = a.localUrl || abs(a.url);
      const src = a.localUrl || (a.thumbnail_url ? abs(a.thumbnail_url) : a.has_thumbnail ? thumbnailUrl(a.url) : abs(a.url));
      const img = h('img', { src, alt: a.filename || t.image, loading: 'lazy', testid: 'kefu-attachment-thumb' });
      // No thumbnail after all (or its URL refused): show the image itself.
      img.addEventListener('error', () => { if (img.getAttribute('src') !== full) img.setAttribute('src', full); });
      return h('a', {
        class: 'att-img', href: full, target: '_blank', rel: 'noopener', testid: 'kefu-attachment-image',
        'aria-label': `${t.openImage}: ${a.filename || t.image}`,
        onClick: (e) => { if (!e.ctrlKey && !e.metaKey && !e.shiftKey) { e.preventDefault(); showLightbox(full, a.filename); } },
      }, img);
    }
    return h('a', {
      class: 'att-file', href: a.url ? abs(a.url) : '#', target: '_blank', rel: 'noopener', download: a.filename || true,
      testid: 'kefu-attachment-file',
    }, icon('file'), h('span', { class: 'att-name' }, a.filename || 'file'), h('span', { class: 'att-size' }, formatBytes(a.size)));
  }

  function showLightbox(src, name) {
    const t = T();
    const closeBtn = h('button', { type: 'button', class: 'head-btn', 'aria-label': t.closeImage, onClick: hideLightbox }, icon('close'));
    ui.lightbox.replaceChildren(h('img', { src, alt: name || t.image }), closeBtn);
    ui.lightbox.setAttribute('aria-label', name || t.image);
    ui.lightbox.hidden = false;
    closeBtn.focus();
  }

  function hideLightbox() {
    ui.lightbox.hidden = true;
    ui.lightbox.replaceChildren();
    ui.input.focus();
  }
  ui.lightbox.addEventListener('click', (e) => { if (e.target === ui.lightbox) hideLightbox(); });

  function renderChat() {
    const t = T();
    const conv = activeConv();
    if (conv) ui.chat.dataset.conversationId = conv.id;
    else delete ui.chat.dataset.conversationId;
    const body = ui.body;
    const nearBottom = body.scrollHeight - body.scrollTop - body.clientHeight < 80;

    // Above the messages: the greeting for a new chat, the offline notice.
    const top = [];
    if (!conv) {
      top.push(h('div', { class: 'msg msg-agent', testid: 'kefu-greeting' },
        h('span', { class: 'avatar sm', 'aria-hidden': 'true' }, icon('chat')),
        h('div', { class: 'msg-col' }, h('div', { class: 'bubble' }, greetingText()))));
    }
    if (!online() && (!conv || !conv.agent_name) && !isEnded(conv)) top.push(offlineCard());
    if (conv && !conv.loaded && !state.msgs.get(conv.id)) top.push(h('div', { class: 'loading' }, t.loading));
    ui.chatTop.replaceChildren(...top);

    // The messages.
    const items = messageItems(state.activeId);
    const seen = new Set();
    const els = items.map((it) => {
      const el = renderMessage(it, conv);
      seen.add(el);
      return el;
    });
    const quick = quickRepliesEl(items);
    if (quick) els.push(quick);
    ui.messages.replaceChildren(...els);
    if (msgCache.size > 600) for (const [k, v] of msgCache) if (!seen.has(v.el)) msgCache.delete(k);

    // Typing.
    const ty = state.typing;
    if (conv && ty && ty.conversationId === conv.id) {
      ui.typing.hidden = false;
      ui.typing.replaceChildren(h('span', { class: 'typing-dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')), h('span', null, t.typing(ty.name)));
    } else {
      ui.typing.hidden = true;
    }

    // Below: the queue, the rating, the closed notice.
    const bottom = [];
    if (conv && conv.queue && !isEnded(conv) && !conv.agent_name) {
      const q = conv.queue;
      const mins = q.estimated_wait_secs != null ? Math.max(1, Math.ceil(q.estimated_wait_secs / 60)) : null;
      bottom.push(h('div', { class: 'notice queue', testid: 'kefu-queue', dataset: { position: q.position } }, icon('clock'),
        h('span', null, mins != null ? t.queueWait(q.position, mins) : t.queue(q.position))));
    }
    if (conv && isEnded(conv)) bottom.push(csatEl(conv));
    if (conv && conv.status === 'closed' || state.closedOffer) {
      bottom.push(h('div', { class: 'notice closed', testid: 'kefu-closed-notice' },
        h('span', null, t.closedNotice),
        h('button', { type: 'button', class: 'btn-primary', testid: 'kefu-start-new', onClick: () => startNew(state.closedOffer) }, t.startNew)));
    }
    ui.chatBottom.replaceChildren(...bottom);

    if (nearBottom || state.stickBottom) {
      state.stickBottom = false;
      body.scrollTop = body.scrollHeight;
    }
    maybeRead();
  }

  let csatCache = { sig: '', el: null };
  function csatEl(conv) {
    const c0 = state.csat;
    const sig = JSON.stringify([lang, conv.id, conv.rating, !!conv.justRated, c0.conversationId === conv.id ? c0.score : 0,
      c0.sending, state.welcomed]);
    if (csatCache.sig !== sig || !csatCache.el) csatCache = { sig, el: buildCsat(conv) };
    return csatCache.el;
  }

  function buildCsat(conv) {
    const t = T();
    if (conv.rating) {
      const s = conv.rating.score;
      return h('div', { class: 'card csat', testid: 'kefu-csat', dataset: { rated: s } },
        conv.justRated ? h('div', { class: 'csat-done', testid: 'kefu-csat-thanks' }, t.csatThanks) : null,
        h('div', { class: 'csat-stars-static', 'aria-hidden': 'true' }, '★'.repeat(s) + '☆'.repeat(5 - s)),
        h('div', { testid: 'kefu-rating' }, t.csatYours(s)),
        conv.rating.comment ? h('div', { class: 'history-meta' }, `“${conv.rating.comment}”`) : null);
    }
    const c = state.csat;
    if (c.conversationId !== conv.id) Object.assign(c, { conversationId: conv.id, score: 0, comment: '', sending: false });
    const stars = [1, 2, 3, 4, 5].map((n) => h('button', {
      type: 'button', class: ['star', n <= c.score && 'on'], testid: 'kefu-csat-star', dataset: { score: n },
      'aria-label': t.star(n), 'aria-pressed': String(n === c.score),
      onClick: () => { c.score = n; render(); const ta = ui.chatBottom.querySelector('textarea'); if (ta) ta.focus(); },
    }, icon('star')));
    const comment = h('textarea', { maxlength: '1000', testid: 'kefu-csat-comment', placeholder: t.csatComment, 'aria-label': t.csatComment, rows: '2' });
    comment.value = c.comment;
    comment.addEventListener('input', () => { c.comment = comment.value; });
    return h('div', { class: 'card csat', testid: 'kefu-csat', role: 'group', 'aria-label': t.csatQuestion },
      h('div', { class: 'csat-q' }, t.csatQuestion),
      h('div', { class: 'stars' }, stars),
      c.score ? comment : null,
      c.score ? h('button', {
        type: 'button', class: 'btn-primary', testid: 'kefu-csat-submit', disabled: c.sending || !state.welcomed,
        onClick: () => rate(conv.id),
      }, t.csatSubmit) : null);
  }

  function renderFoot() {
    const t = T();
    const conv = activeConv();
    ui.foot.hidden = state.view !== 'chat' || (conv && conv.status === 'closed') || !!state.closedOffer;
    ui.input.setAttribute('placeholder', t.placeholder);
    ui.input.setAttribute('aria-label', t.placeholder);
    ui.send.setAttribute('aria-label', t.send);
    ui.send.title = t.send;
    ui.attach.setAttribute('aria-label', t.attach);
    ui.attach.title = t.attach;
    ui.drop.textContent = t.dropHere;
    const fatal = state.conn === 'fatal';
    ui.input.disabled = fatal;
    ui.send.disabled = fatal;
    ui.attach.disabled = fatal;

    const pre = needPrechat();
    ui.prechat.hidden = !pre;
    if (pre) {
      const intro = pre.followUp ? t.emailFollowUp : pre.emailRequired ? t.emailNeeded : '';
      ui.preIntro.textContent = intro;
      ui.preIntro.hidden = !intro;
      ui.preIntro.dataset.followUp = String(pre.followUp);
      ui.preNameField.hidden = !pre.form;
      ui.preTopicField.hidden = !pre.form;
      ui.preNameLabel.textContent = `${t.name} (${t.optional})`;
      ui.preEmailLabel.textContent = pre.emailRequired ? t.email : `${t.email} (${t.optional})`;
      ui.preEmail.required = pre.emailRequired;
      ui.preTopicLabel.textContent = t.topic;
      const topics = (state.config && state.config.topics) || [];
      const current = ui.preTopic.value;
      ui.preTopic.replaceChildren(h('option', { value: '' }, t.topicChoose),
        ...topics.map((k) => h('option', { value: k }, t.topics[k] || k)));
      ui.preTopic.value = topics.includes(current) ? current : '';
      ui.preTopicField.hidden = !pre.form || topics.length === 0;
      describeEmail();
    }
    if (state.notice) {
      ui.formError.hidden = false;
      ui.formError.replaceChildren(icon('alert'), h('span', null, state.notice));
    } else {
      ui.formError.hidden = true;
    }
    renderCheck();
    renderSuggestions();
  }

  // --- Identity checks ------------------------------------------------------------------------
  //
  // Before a sensitive request (a 2FA reset, unlocking the account…) an agent may ask the
  // customer to prove who they are. The followed chat's `identity_check` is then pending, and a
  // card above the composer asks for the answer: the 6-digit code mailed to the customer or
  // shown by their authenticator app, or a fresh sign-in at the exchange (the host page's
  // KefuChat.stepUp hook). The answer goes out as a `verify` frame; a `conversation` frame with
  // the check passed answers it, an `error` frame says what was wrong.

  const checkUi = { id: null, sending: null, error: null, timer: null, expiry: null };
  const stepUpHook = () => (typeof hooks.stepUp === 'function' ? hooks.stepUp : null);
  const checkOpen = (c) => !!c && c.status === 'pending' && !(Date.parse(c.expires_at) <= Date.now());

  function renderCheck() {
    const t = T();
    const conv = state.view === 'chat' ? activeConv() : null;
    const c = conv ? conv.identity_check : null;
    const live = checkOpen(c);
    const d = state.checkDone;
    const done = !live && !!conv && !!d && d.convId === conv.id && d.until > Date.now();
    const want = live ? ui.check : done ? ui.checkDone : null;
    if (ui.checkSlot.firstChild !== want) ui.checkSlot.replaceChildren(...(want ? [want] : []));
    clearTimeout(checkUi.expiry);
    if (done) ui.checkDone.replaceChildren(icon('check'), h('span', null, t.checkDone));
    if (!live) return;
    // A pending check shows as expired once its time is up.
    const left = Date.parse(c.expires_at) - Date.now();
    if (left > 0 && left < 2 ** 31) checkUi.expiry = setTimeout(() => render(), left + 100);
    if (checkUi.id !== c.id) {
      // A new check: nothing typed, no old error.
      checkUi.id = c.id;
      checkUi.error = null;
      ui.checkCode.value = '';
    }
    const code = c.method !== 'signed_session';
    const hook = stepUpHook();
    const busy = checkUi.sending === c.id;
    ui.check.dataset.checkId = c.id;
    ui.check.dataset.method = c.method;
    ui.check.dataset.status = c.status;
    ui.check.setAttribute('aria-busy', String(busy));
    ui.checkTitle.textContent = t.checkTitle;
    ui.checkWhy.textContent = t.checkWhy;
    ui.checkFor.textContent = t.checkFor(t.checkReasons[c.reason] || t.checkReasons.other);
    if (c.method === 'email_code') ui.checkHow.textContent = c.destination ? t.checkEmail(c.destination) : t.checkEmailAny;
    else if (c.method === 'exchange_totp') ui.checkHow.textContent = t.checkTotp;
    else ui.checkHow.textContent = hook ? t.checkSession : t.checkNoHook;
    const action = code ? ui.checkForm : hook ? ui.checkSignIn : null;
    if (ui.checkActions.firstChild !== action) ui.checkActions.replaceChildren(...(action ? [action] : []));
    ui.checkActions.hidden = !action;
    const off = busy || state.conn === 'fatal';
    ui.checkCodeLabel.textContent = t.checkCode;
    ui.checkCode.readOnly = busy;
    ui.checkCode.disabled = state.conn === 'fatal';
    if (checkUi.error) ui.checkCode.setAttribute('aria-invalid', 'true');
    else ui.checkCode.removeAttribute('aria-invalid');
    ui.checkSubmit.textContent = busy ? t.checkChecking : t.checkConfirm;
    ui.checkSubmit.disabled = off;
    ui.checkSignIn.replaceChildren(icon('shield'), h('span', null, busy ? t.checkChecking : t.checkConfirmMe));
    ui.checkSignIn.disabled = off;
    const attempts = Number(c.attempts_left);
    ui.checkMeta.replaceChildren(
      Number.isFinite(attempts) ? h('span', { testid: 'check-attempts', dataset: { left: attempts } }, t.checkAttempts(attempts)) : null,
      c.expires_at ? h('span', null, t.checkValidUntil(formatTime(c.expires_at))) : null);
    ui.checkError.hidden = !checkUi.error;
    ui.checkError.replaceChildren(...(checkUi.error ? [icon('alert'), h('span', null, checkUi.error)] : []));
    ui.checkNever.hidden = !code;
    ui.checkNever.textContent = t.checkNever;
  }

  /** Sends the answer; false when the socket is not there to carry it. */
  function sendVerify(conversationId, checkId, answer) {
    const f = { type: 'verify', conversation_id: conversationId, check_id: checkId, ...answer };
    checkUi.error = null;
    if (!isReady() || !sendFrame(f)) {
      checkUi.sending = null;
      checkUi.error = T().checkOffline;
      render();
      return false;
    }
    checkUi.sending = checkId;
    clearTimeout(checkUi.timer);
    // No answer at all (a dropped socket): let the customer try again.
    checkUi.timer = setTimeout(() => {
      if (checkUi.sending !== checkId) return;
      checkUi.sending = null;
      checkUi.error = T().tryLater;
      render();
    }, 20_000);
    render();
    return true;
  }

  function submitCheckCode() {
    const conv = activeConv();
    const c = conv ? conv.identity_check : null;
    if (!checkOpen(c) || checkUi.sending || state.conn === 'fatal') return;
    const digits = ui.checkCode.value.replace(/\D/g, '');
    if (digits.length !== 6) {
      checkUi.error = T().checkCodeInvalid;
      render();
      ui.checkCode.focus();
      return;
    }
    sendVerify(conv.id, c.id, { code: digits });
  }

  /** "Confirm it's me": the host page signs the customer in again; its fresh token answers. */
  async function confirmSignIn() {
    const conv = activeConv();
    const c = conv ? conv.identity_check : null;
    const hook = stepUpHook();
    if (!checkOpen(c) || checkUi.sending || !hook || state.conn === 'fatal') return;
    const checkId = c.id;
    checkUi.sending = checkId;
    checkUi.error = null;
    clearTimeout(checkUi.timer);
    render();
    let answer = null;
    try {
      const got = await hook();
      answer = got && typeof got.token === 'string' && got.token ? { token: got.token } : normalizeIdentity(got);
    } catch {
      answer = null;
    }
    if (checkUi.sending !== checkId) return; // the check moved on meanwhile
    checkUi.sending = null;
    const now = state.convs.get(conv.id);
    if (!now || !now.identity_check || now.identity_check.id !== checkId || !checkOpen(now.identity_check)) {
      render();
      return;
    }
    if (!answer) {
      checkUi.error = T().checkSignInFailed;
      render();
      return;
    }
    sendVerify(conv.id, checkId, { identity: answer });
  }

  /** A conversation frame: "Identity confirmed" when the check we showed passed. */
  function checkUpdated(prev, conv) {
    const was = prev ? prev.identity_check : null;
    const now = conv.identity_check;
    if (checkUi.sending && (!now || now.id !== checkUi.sending || now.status !== 'pending')) {
      checkUi.sending = null;
      clearTimeout(checkUi.timer);
    }
    if (was && now && was.id === now.id && was.status === 'pending' && now.status === 'passed') {
      state.checkDone = { convId: conv.id, until: Date.now() + 5000 };
      setTimeout(() => render(), 5100);
    }
  }

  const CHECK_REPLIES = new Set(['validation_failed', 'not_found', 'invalid_signature', 'identity_expired', 'rate_limited', 'internal']);

  /** An error frame that answers a `verify`: what was wrong, on the card. */
  function isCheckError(f) {
    if (f.client_id) return false;
    return String(f.code || '').startsWith('identity_check_') || (!!checkUi.sending && CHECK_REPLIES.has(f.code));
  }

  function onCheckError(f) {
    const t = T();
    checkUi.sending = null;
    clearTimeout(checkUi.timer);
    const conv = activeConv();
    const c = conv ? conv.identity_check : null;
    const signIn = !!c && c.method === 'signed_session';
    switch (f.code) {
      case 'identity_check_failed': {
        const n = Number.isInteger(f.attempts_left) ? f.attempts_left : null;
        // The conversation frame with the lower count follows; show it at once.
        if (c && c.status === 'pending' && n !== null) c.attempts_left = Math.min(Number(c.attempts_left) || n, n);
        checkUi.error = signIn ? t.checkWrongSession : t.checkWrong(n || 0);
        ui.checkCode.value = '';
        break;
      }
      case 'identity_check_closed': {
        checkUi.error = null;
        state.notice = t.checkClosed;
        // "this identity check is failed: …": closed here too, until the conversation frame says more.
        const m = /\bis (failed|expired|cancelled|passed)\b/.exec(f.message || '');
        if (c && c.status === 'pending') c.status = m ? m[1] : 'expired';
        break;
      }
      case 'validation_failed':
        checkUi.error = signIn ? t.checkSignInFailed : t.checkCodeInvalid;
        break;
      case 'identity_check_unavailable':
        checkUi.error = t.checkUnavailable;
        break;
      default:
        checkUi.error = t.tryLater;
    }
    render();
    if (checkUi.error && state.open && ui.checkSlot.contains(ui.checkCode)) ui.checkCode.focus();
  }

  // --- Views and the public actions ----------------------------------------------------------

  function open() {
    if (state.open) return;
    state.open = true;
    if (!state.chosen) pickDefaultView();
    state.stickBottom = true;
    render();
    refreshConfig();
    if (state.conn === 'down' || state.conn === 'idle') connectNow();
    setTimeout(() => (state.view === 'chat' ? ui.input : ui.closeBtn).focus(), 0);
  }

  function close() {
    if (!state.open) return;
    state.open = false;
    hideLightbox();
    stopTyping();
    render();
    ui.launcher.focus();
  }

  /** Opens the ongoing chat if there is one, the list when there are earlier chats, else a new chat. */
  function pickDefaultView() {
    const ongoing = state.order.map((id) => state.convs.get(id)).find((c) => c && !isEnded(c));
    if (state.activeId && state.convs.has(state.activeId)) state.view = 'chat';
    else if (ongoing) { state.view = 'chat'; state.activeId = ongoing.id; follow(ongoing.id); }
    else if (state.order.length) state.view = 'home';
    else { state.view = 'chat'; state.activeId = null; }
  }

  function showHome(byUser) {
    if (byUser) state.chosen = true;
    stopTyping();
    state.view = 'home';
    state.closedOffer = null;
    state.notice = null;
    render();
    ui.closeBtn.focus();
  }

  function startNew(text) {
    state.chosen = true;
    stopTyping();
    state.view = 'chat';
    state.activeId = null;
    state.closedOffer = null;
    state.notice = null;
    const prefill = typeof text === 'string' && !!text.trim();
    if (prefill) ui.input.value = text;
    render();
    if (prefill) {
      autosize();
      onComposerInput(); // its suggestions, as if typed
    }
    ui.input.focus();
  }

  function openConversation(id) {
    state.chosen = true;
    stopTyping();
    state.view = 'chat';
    state.activeId = id;
    state.closedOffer = null;
    state.notice = null;
    state.stickBottom = true;
    follow(id);
    render();
    ui.input.focus();
  }

  /** Follows a chat on the socket: its whole history the first time, what is new afterwards. */
  function follow(id) {
    if (!id || state.followed.has(id) || !isReady()) return;
    const c = state.convs.get(id);
    state.followed.add(id);
    sendFrame({ type: 'resume', conversation_id: id, after_seq: c && c.seq ? c.seq : 0 });
  }

  function setLanguage(l) {
    const next = pickLanguage(l);
    if (!next || next === lang) return;
    lang = next;
    msgCache.clear();
    render();
    // The same questions, in the new language.
    if (suggest.shown || suggest.timer) suggest.now();
    if (help.shown || help.timer) help.now();
  }

  function identify(id) {
    const next = normalizeIdentity(id);
    if (JSON.stringify(next) === JSON.stringify(identity) && state.conn !== 'fatal') return;
    identity = next;
    resetConversations();
    loadOutbox();
    state.fatal = null;
    state.banner = null;
    state.attempt = 0;
    state.everReady = false;
    reconnect(true);
    render();
  }

  function resetConversations() {
    state.convs.clear();
    state.order = [];
    state.msgs.clear();
    state.msgIds.clear();
    state.pending = [];
    state.activeId = null;
    state.chosen = false;
    state.view = 'home';
    state.typing = null;
    state.closedOffer = null;
    state.notice = null;
    msgCache.clear();
    if (state.open) pickDefaultView();
  }

  // --- Sending --------------------------------------------------------------------------------

  function prechatValues() {
    const pre = needPrechat();
    if (!pre) return { ok: true, prechat: null };
    const email = ui.preEmail.value.trim();
    const t = T();
    let err = null;
    if (pre.emailRequired && !email) err = t.emailRequired;
    else if (email && !EMAIL_RE.test(email)) err = t.emailInvalid;
    if (err) {
      ui.preEmailError.textContent = err;
      ui.preEmailError.hidden = false;
      ui.preEmail.setAttribute('aria-invalid', 'true');
      describeEmail();
      ui.preEmail.focus();
      return { ok: false };
    }
    const prechat = {};
    const name = ui.preName.value.trim();
    if (pre.form && name) prechat.name = name;
    if (email) prechat.email = email;
    if (pre.form && ui.preTopic.value) prechat.topic = ui.preTopic.value;
    return { ok: true, prechat: Object.keys(prechat).length ? prechat : null };
  }

  function submit() {
    if (state.conn === 'fatal') return;
    const body = ui.input.value.trim();
    if (!body) return;
    const pre = prechatValues();
    if (!pre.ok) return;
    enqueue({ body, prechat: pre.prechat });
    ui.input.value = '';
    autosize();
    stopTyping();
    clearSuggestions();
    ui.input.focus();
  }

  function enqueue({ body, attachment_ids = [], attachments = [], prechat = null, stateName = 'sending' }) {
    const starting = !state.activeId;
    const item = {
      client_id: nextClientId(),
      conversation_id: state.activeId || null,
      body,
      attachment_ids,
      attachments,
      prechat: starting && !state.pending.some((p) => !p.conversation_id) ? prechat : null,
      created_at: new Date().toISOString(),
      state: stateName,
      inflight: false,
      retryAt: 0,
    };
    state.pending.push(item);
    state.notice = null;
    state.stickBottom = true;
    saveOutbox();
    render();
    flush();
    return item;
  }

  function retry(item) {
    item.state = 'sending';
    item.error = null;
    item.retryAt = 0;
    saveOutbox();
    render();
    flush();
  }

  // The server takes a burst of `send` frames, then a few a second (welcome's `limits`); pacing
  // them here keeps a fast typist's messages in order instead of bouncing off `rate_limited`.
  const sendBucket = { tokens: 10, burst: 10, rate: 1.8, at: Date.now() };
  let pacedFlush = null;

  function takeSendToken() {
    const now = Date.now();
    const b = sendBucket;
    b.tokens = Math.min(b.burst, b.tokens + ((now - b.at) / 1000) * b.rate);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / b.rate) * 1000);
  }

  /** Sends every unacknowledged message the socket has not carried yet, in order. */
  function flush() {
    if (!isReady()) return;
    const now = Date.now();
    const starter = state.pending.find((p) => !p.conversation_id && (p.state === 'sending' || p.state === 'uploading'));
    for (const p of state.pending) {
      if (p.state === 'uploading') break; // keep the order: wait for the upload
      if (p.state !== 'sending' || p.inflight) continue;
      if (p.retryAt > now) break;
      if (!p.conversation_id && p !== starter) continue; // sent once the chat exists
      const wait = takeSendToken();
      if (wait) {
        if (!pacedFlush) pacedFlush = setTimeout(() => { pacedFlush = null; flush(); }, wait + 10);
        break;
      }
      if (p.conversation_id) follow(p.conversation_id);
      const f = { type: 'send', client_id: p.client_id, body: p.body };
      if (p.conversation_id) f.conversation_id = p.conversation_id;
      if (p.attachment_ids && p.attachment_ids.length) f.attachment_ids = p.attachment_ids;
      if (!p.conversation_id && p.prechat) f.prechat = p.prechat;
      if (sendFrame(f)) p.inflight = true;
    }
  }

  function rate(convId) {
    const c = state.csat;
    if (!c.score || c.sending) return;
    c.sending = true;
    follow(convId);
    const f = { type: 'rate', conversation_id: convId, score: c.score };
    if (c.comment.trim()) f.comment = c.comment.trim().slice(0, 1000);
    if (!sendFrame(f)) c.sending = false;
    render();
  }

  // --- Attachments ----------------------------------------------------------------------------

  async function uploadFiles(files) {
    if (state.conn === 'fatal' || state.view !== 'chat') return;
    const list = [...files].filter((f) => f && f.size >= 0);
    if (!list.length) return;
    const pre = prechatValues();
    if (!pre.ok) return;
    for (const file of list) {
      const isImage = /^image\/(png|jpe?g|gif|webp)$/i.test(file.type);
      const localUrl = isImage ? URL.createObjectURL(file) : null;
      const item = enqueue({
        body: '', prechat: pre.prechat, stateName: 'uploading',
        attachments: [{ filename: file.name, size: file.size, content_type: file.type, inline: isImage, localUrl }],
      });
      try {
        const fd = new FormData();
        fd.append('hello', JSON.stringify(helloFrame()));
        fd.append('file', file, file.name);
        const res = await fetch(`${HOST}/api/v1/chat/attachments`, { method: 'POST', body: fd, credentials: 'omit', headers: { accept: 'application/json' } });
        const data = await res.json().catch(() => null);
        if (!res.ok || !data || !data.id) {
          const t = T();
          const msg = res.status === 413 ? t.fileTooLarge(file.name) : ((data && (data.detail || data.title)) || t.uploadFailed(file.name));
          throw new Error(msg);
        }
        item.attachment_ids = [data.id];
        // From now on the server's (signed) URL: a host page's CSP may not allow blob: images.
        item.attachments = [data];
        if (localUrl) setTimeout(() => URL.revokeObjectURL(localUrl), 60_000);
        item.state = 'sending';
        saveOutbox();
        render();
        flush();
      } catch (e) {
        const t = T();
        item.state = 'failed';
        item.retryable = false;
        item.error = e && e.message && !/fetch|network/i.test(e.message) ? e.message : t.uploadFailed(file.name);
        render();
        flush(); // what waited behind the upload goes on
      }
    }
  }

  ui.fileInput.addEventListener('change', () => {
    const files = [...ui.fileInput.files];
    ui.fileInput.value = '';
    uploadFiles(files);
  });
  ui.input.addEventListener('paste', (e) => {
    const files = e.clipboardData ? [...e.clipboardData.files] : [];
    if (files.length) {
      e.preventDefault();
      uploadFiles(files);
    }
  });
  let dragDepth = 0;
  const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes('Files');
  ui.panel.addEventListener('dragenter', (e) => {
    if (!hasFiles(e) || state.view !== 'chat') return;
    e.preventDefault();
    dragDepth += 1;
    ui.drop.hidden = false;
  });
  ui.panel.addEventListener('dragover', (e) => { if (hasFiles(e) && state.view === 'chat') e.preventDefault(); });
  ui.panel.addEventListener('dragleave', () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) ui.drop.hidden = true;
  });
  ui.panel.addEventListener('drop', (e) => {
    dragDepth = 0;
    ui.drop.hidden = true;
    if (!hasFiles(e) || state.view !== 'chat') return;
    e.preventDefault();
    uploadFiles(e.dataTransfer.files);
  });

  // --- Help-center search ---------------------------------------------------------------------
  //
  // Two places search the help center as the visitor types, with one implementation (helpSearch,
  // articleItems, recordClick): the suggestions above the composer, up to three articles that may
  // already answer the message being written, and the search card on the home view, up to five.
  // Each waits for a pause in the typing, asks GET /api/v1/help/search (untracked) and keeps only
  // the newest answer. Opening an article records the click afterwards: the same search again
  // with track=true, then POST /api/v1/help/clicks. Nothing here ever shows an error: without
  // articles the chat works as before.

  const HAN_RE = /[\u3400-\u9fff\uf900-\ufaff]/;
  const SEARCH_DELAY_MS = 350;

  /** The search for some typed text, or null when it is too short or too long. */
  function helpQuery(raw) {
    const q = String(raw || '').trim().replace(/\s+/g, ' ');
    const n = [...q].length;
    return n >= (HAN_RE.test(q) ? 2 : 3) && n <= 200 ? q : null;
  }

  function searchUrl(q, locale, limit, track) {
    const params = new URLSearchParams({ q, locale, limit: String(limit), source: 'widget', track: track ? 'true' : 'false' });
    return `${HOST}/api/v1/help/search?${params}`;
  }

  /**
   * A search that follows what is typed somewhere. `text()` is that text, `limit` how many
   * articles to show, `enabled()` whether to search at all, and `show()` draws `search.shown`:
   * { q, locale, limit, hits, tracked } once the help center answered (`hits` may be empty), or
   * null (nothing searched yet, the text is no question, or the search failed).
   */
  function helpSearch({ text, limit, enabled = () => true, show }) {
    const search = {
      timer: null,
      seq: 0, // the newest request: the answers of older ones are dropped
      ctrl: null, // its AbortController
      shown: null,
      sig: '', // what the list on screen shows (set by `show`)
    };

    /** Forget the waiting search and drop the answer of the one under way. */
    search.cancel = () => {
      clearTimeout(search.timer);
      search.timer = null;
      search.seq += 1;
      if (search.ctrl) {
        try { search.ctrl.abort(); } catch { /* done already */ }
        search.ctrl = null;
      }
    };

    search.hide = () => {
      search.cancel();
      search.shown = null;
      show();
    };

    /** After a keystroke: search once the typing pauses. */
    search.schedule = () => {
      if (!helpQuery(text()) || !enabled()) return search.hide();
      clearTimeout(search.timer);
      search.timer = setTimeout(() => { search.timer = null; run(); }, SEARCH_DELAY_MS);
      return undefined;
    };

    /** Search now (Enter, or the language changed), not after the pause. */
    search.now = () => {
      clearTimeout(search.timer);
      search.timer = null;
      return run();
    };

    async function run() {
      const q = helpQuery(text());
      if (!q || !enabled()) return search.hide();
      const locale = lang;
      const s0 = search.shown;
      if (s0 && s0.q === q && s0.locale === locale) { search.cancel(); return undefined; } // showing it already
      search.cancel();
      const id = search.seq;
      const ctrl = typeof AbortController === 'function' ? new AbortController() : null;
      search.ctrl = ctrl;
      let hits = null;
      try {
        const res = await fetch(searchUrl(q, locale, limit, false), {
          credentials: 'omit', headers: { accept: 'application/json' }, signal: ctrl ? ctrl.signal : undefined,
        });
        const data = res.ok ? await res.json() : null;
        hits = data && Array.isArray(data.hits)
          // Only the support host's own pages (never another scheme or host).
          ? data.hits.filter((x) => x && x.id && x.title && typeof x.url === 'string' && /^\/(?!\/)/.test(x.url)).slice(0, limit)
          : null;
      } catch {
        hits = null; // offline, refused, aborted: no list
      }
      if (id !== search.seq) return undefined; // a later keystroke won, or the list was closed
      search.ctrl = null;
      if (helpQuery(text()) !== q || lang !== locale) return undefined; // a newer search follows
      search.shown = hits ? { q, locale, limit, hits, tracked: null } : null;
      show();
      return undefined;
    }

    return search;
  }

  /** What a list of articles shows: it is redrawn only when that changes. */
  const hitsSig = (shown) => JSON.stringify([shown.locale, shown.q, shown.hits.map((x) => [x.id, x.title, x.summary, x.snippet, x.url])]);

  /** The list items for the articles of an answer: links that open in a new tab. */
  function articleItems(shown, { testid, describedby }) {
    return shown.hits.map((hit) => {
      const summary = String(hit.summary || hit.snippet || '').replace(/\s+/g, ' ').trim();
      return h('li', null, h('a', {
        class: 'suggest-link', href: `${HOST}${hit.url}`, target: '_blank', rel: 'noopener',
        hreflang: hit.locale || null, title: hit.title, testid,
        dataset: { id: hit.id, slug: hit.slug || null }, 'aria-describedby': describedby,
        // The link opens the tab itself; the click is recorded on the side.
        onClick: () => recordClick(shown, hit),
        onAuxclick: (e) => { if (e.button === 1) recordClick(shown, hit); },
      },
      icon('file'),
      h('span', { class: 'suggest-text' },
        h('span', { class: 'suggest-name' }, hit.title),
        summary ? h('span', { class: 'suggest-summary' }, summary) : null)));
    });
  }

  /** Fire and forget: the tracked search (once per answer), then the click on it. */
  function recordClick(shown, hit) {
    try {
      if (!shown.tracked) {
        shown.tracked = fetch(searchUrl(shown.q, shown.locale, shown.limit, true), { credentials: 'omit', headers: { accept: 'application/json' } })
          .then((res) => (res.ok ? res.json() : null))
          .then((data) => (data && typeof data.search_id === 'string' && data.search_id) || null)
          .catch(() => null);
      }
      const tracked = shown.tracked;
      tracked.then((searchId) => {
        if (!searchId) {
          if (shown.tracked === tracked) shown.tracked = null; // try again on the next click
          return undefined;
        }
        return fetch(`${HOST}/api/v1/help/clicks`, {
          method: 'POST', credentials: 'omit', keepalive: true,
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ search_id: searchId, article_id: hit.id }),
        });
      }).catch(() => { /* analytics only */ });
    } catch {
      // analytics only
    }
  }

  // --- Suggested articles above the composer ---------------------------------------------------

  const suggest = helpSearch({
    text: () => ui.input.value,
    limit: 3,
    enabled: () => !suggest.dismissed && state.conn !== 'fatal',
    show: () => renderSuggestions(),
  });
  suggest.dismissed = null; // the question the visitor closed the list for

  /** A closed list stays closed while the text only grows or shrinks at its end. */
  function rewritten(text, dismissed) {
    const a = String(text || '').trim().replace(/\s+/g, ' ').toLowerCase();
    const b = dismissed.toLowerCase();
    return !a.startsWith(b) && !b.startsWith(a);
  }

  const hideSuggestions = () => suggest.hide();

  /** After a send: no list, and the next question gets suggestions again. */
  function clearSuggestions() {
    suggest.dismissed = null;
    hideSuggestions();
  }

  function dismissSuggestions() {
    const hadFocus = ui.suggest.contains(shadow.activeElement);
    suggest.dismissed = helpQuery(ui.input.value) || ui.input.value.trim().replace(/\s+/g, ' ') || null;
    hideSuggestions();
    if (hadFocus || shadow.activeElement === ui.input) ui.input.focus();
  }

  function onComposerInput() {
    const raw = ui.input.value;
    if (!raw.trim()) return clearSuggestions();
    if (suggest.dismissed && rewritten(raw, suggest.dismissed)) suggest.dismissed = null;
    return suggest.schedule();
  }

  const suggestionsVisible = () => !ui.suggest.hidden && !ui.foot.hidden && state.open;
  const suggestionLinks = () => [...ui.suggestList.querySelectorAll('a')];

  function renderSuggestions() {
    const t = T();
    const s = suggest.shown;
    const show = !!(s && s.hits.length && !suggest.dismissed && state.conn !== 'fatal');
    ui.suggest.setAttribute('aria-label', t.suggestions);
    ui.suggestHeading.textContent = t.suggestions;
    ui.suggestClose.setAttribute('aria-label', t.hideSuggestions);
    ui.suggestClose.title = t.hideSuggestions;
    ui.suggestNewTab.textContent = t.opensInNewTab;
    const sig = show ? hitsSig(s) : '';
    if (sig === suggest.sig) return;
    suggest.sig = sig;
    // Focus in a list that goes away returns to the composer.
    const active = shadow.activeElement;
    const hadFocus = ui.suggest.contains(active) && (!show || active !== ui.suggestClose);
    ui.suggest.hidden = !show;
    ui.suggestList.replaceChildren(...(show ? articleItems(s, { testid: 'kefu-suggestion', describedby: 'kc-suggest-newtab' }) : []));
    if (hadFocus) ui.input.focus();
  }

  ui.suggest.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      e.preventDefault();
      dismissSuggestions();
      return;
    }
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const links = suggestionLinks();
    const at = links.indexOf(shadow.activeElement);
    if (!links.length || (at < 0 && shadow.activeElement !== ui.suggestClose)) return;
    e.preventDefault();
    const next = e.key === 'ArrowDown' ? at + 1 : at - 1; // from the close button (-1): down to the first
    if (next >= links.length) ui.input.focus();
    else if (next >= 0) links[next].focus();
    else ui.suggestClose.focus();
  });

  // --- The help search card on the home view ---------------------------------------------------
  //
  // Before a chat, the visitor can look for an answer themselves: up to five articles list under
  // the box as they type (the same search as the suggestions above). When none is found, one
  // button starts a new conversation with what they typed already in the composer.

  const help = helpSearch({ text: () => ui.helpInput.value, limit: 5, show: () => renderHelp() });

  /** The results' links, then the "start a conversation" button: what the arrow keys move through. */
  const helpItems = () => [...ui.helpResults.querySelectorAll('a'), ...ui.helpEmpty.querySelectorAll('button')];

  function renderHelp() {
    const t = T();
    ui.help.setAttribute('aria-label', t.helpSearch);
    ui.helpLabel.textContent = t.helpSearch;
    ui.helpInput.setAttribute('placeholder', t.helpPlaceholder);
    ui.helpNewTab.textContent = t.opensInNewTab;
    const s = help.shown;
    const sig = s ? JSON.stringify([lang, hitsSig(s)]) : '';
    if (sig === help.sig) return;
    help.sig = sig;
    const active = shadow.activeElement;
    const hadFocus = !!active && active !== ui.helpInput && ui.help.contains(active);
    const found = s ? s.hits.length : 0;
    ui.helpResults.hidden = !found;
    ui.helpResults.replaceChildren(...(found ? articleItems(s, { testid: 'kefu-help-result', describedby: 'kc-help-newtab' }) : []));
    ui.helpEmpty.hidden = !s || found > 0;
    ui.helpEmpty.replaceChildren(...(s && !found ? [`${t.helpNone} — `, h('button', {
      type: 'button', class: 'btn-link', testid: 'kefu-help-start-chat', onClick: () => startFromHelp(),
    }, t.helpAsk)] : []));
    // What screen readers announce once an answer is in (nothing while there is no question).
    ui.helpStatus.textContent = !s ? '' : found ? t.helpResults(found) : t.helpNone;
    // Focus in a list that was redrawn returns to the box.
    if (hadFocus) ui.helpInput.focus();
  }

  /** "Start a conversation": a new chat, with the search already written in the composer. */
  function startFromHelp() {
    const q = ui.helpInput.value.trim().replace(/\s+/g, ' ');
    ui.helpInput.value = '';
    help.hide();
    startNew(q);
  }

  ui.helpInput.addEventListener('input', (e) => {
    if (!e.isComposing) help.schedule(); // an IME's half-typed pinyin is not a question yet
  });
  ui.helpInput.addEventListener('compositionend', () => help.schedule());
  ui.helpInput.addEventListener('keydown', (e) => {
    if (e.isComposing || e.keyCode === 229) return;
    if (e.key === 'Enter') {
      // Search at once; there is nothing else to submit here.
      e.preventDefault();
      help.now();
    } else if (e.key === 'Escape' && ui.helpInput.value) {
      // The text goes first; a second Escape closes the panel.
      e.preventDefault();
      e.stopPropagation();
      ui.helpInput.value = '';
      help.hide();
    } else if (e.key === 'ArrowDown' && !e.altKey && !e.ctrlKey && !e.metaKey) {
      const items = helpItems();
      if (items.length) {
        e.preventDefault();
        items[0].focus();
      }
    }
  });
  ui.help.addEventListener('keydown', (e) => {
    if (e.target === ui.helpInput) return;
    const items = helpItems();
    const at = items.indexOf(shadow.activeElement);
    if (at < 0) return;
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      ui.helpInput.focus();
      return;
    }
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    const next = e.key === 'ArrowDown' ? at + 1 : at - 1; // up from the first: back to the box
    if (next < 0) ui.helpInput.focus();
    else if (next < items.length) items[next].focus();
  });

  // --- Typing and reading ---------------------------------------------------------------------

  const typingOut = { sentAt: 0, active: false, idle: null };

  function noteTyping() {
    const id = state.activeId;
    if (!id || !isReady() || !state.followed.has(id)) return;
    const now = Date.now();
    if (!typingOut.active || now - typingOut.sentAt >= 3000) {
      if (sendFrame({ type: 'typing', conversation_id: id, typing: true })) {
        typingOut.sentAt = now;
        typingOut.active = true;
        typingOut.conversationId = id;
      }
    }
    clearTimeout(typingOut.idle);
    typingOut.idle = setTimeout(stopTyping, 4000);
  }

  function stopTyping() {
    clearTimeout(typingOut.idle);
    if (typingOut.active && isReady()) sendFrame({ type: 'typing', conversation_id: typingOut.conversationId, typing: false });
    typingOut.active = false;
    typingOut.sentAt = 0;
  }

  function maybeRead() {
    if (!state.open || document.visibilityState !== 'visible' || state.view !== 'chat' || !isReady()) return;
    const conv = activeConv();
    if (!conv || !state.followed.has(conv.id) || !conv.loaded) return;
    const top = conv.seq || 0;
    const mark = Math.max(conv.readSent || 0, conv.customer_read_seq || 0);
    const msgs = state.msgs.get(conv.id);
    let unseen = false;
    if (msgs) for (const m of msgs.values()) if (m.seq > mark && m.author_kind !== 'customer') { unseen = true; break; }
    if (unseen && top > mark) {
      if (sendFrame({ type: 'read', conversation_id: conv.id, seq: top })) {
        conv.readSent = top;
        queueMicrotask(renderBadgeOnly);
      }
    }
  }

  function renderBadgeOnly() {
    const n = unreadCount();
    ui.badge.hidden = n === 0;
    ui.badge.textContent = n > 99 ? '99+' : String(n);
  }

  function autosize() {
    ui.input.style.height = 'auto';
    ui.input.style.height = `${Math.min(ui.input.scrollHeight, 120)}px`;
  }

  ui.input.addEventListener('input', (e) => {
    autosize();
    if (ui.input.value.trim()) noteTyping();
    else stopTyping();
    if (!e.isComposing) onComposerInput(); // an IME's half-typed pinyin is not a question yet
  });
  ui.input.addEventListener('compositionend', () => onComposerInput());
  ui.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape' && !e.isComposing && suggestionsVisible()) {
      // The suggestions go first; a second Escape closes the panel.
      e.stopPropagation();
      dismissSuggestions();
    } else if (e.key === 'ArrowUp' && !e.isComposing && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey
      && suggestionsVisible() && ui.input.selectionStart === 0 && ui.input.selectionEnd === 0) {
      // Up from the very start of the text moves into the list just above.
      const links = suggestionLinks();
      if (links.length) {
        e.preventDefault();
        links[links.length - 1].focus();
      }
    }
  });
  root.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if (!ui.lightbox.hidden) { e.stopPropagation(); hideLightbox(); return; }
    if (state.open) { e.stopPropagation(); close(); }
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') {
      maybeRead();
      if (state.conn === 'down') connectNow();
    }
  });
  window.addEventListener('online', () => { if (state.conn === 'down') connectNow(); });

  // --- The socket -----------------------------------------------------------------------------

  let retryTimer = null;
  let pingTimer = null;
  let pongTimer = null;
  let bannerTimer = null;

  const isReady = () => state.conn === 'ready' && state.ws && state.ws.readyState === WebSocket.OPEN;

  function sendFrame(f) {
    const ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.send(JSON.stringify(f));
      return true;
    } catch {
      return false;
    }
  }

  function wsUrl() {
    return `${HOST.replace(/^http/, 'ws')}/api/v1/chat/ws`;
  }

  function connectNow() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (state.conn === 'fatal' || state.conn === 'connecting' || isReady()) return;
    connect();
  }

  function reconnect(immediately) {
    const old = state.ws;
    state.ws = null;
    if (old) {
      old.onclose = null;
      old.onmessage = null;
      old.onerror = null;
      try { old.close(1000, 'identity changed'); } catch { /* closed already */ }
    }
    state.conn = 'idle';
    state.followed.clear();
    if (immediately) connectNow();
  }

  function connect() {
    if (!WIDGET_ID) {
      fail(T().unavailable);
      return;
    }
    state.conn = 'connecting';
    state.welcomed = false;
    let ws;
    try {
      ws = new WebSocket(wsUrl());
    } catch {
      onDown();
      return;
    }
    state.ws = ws;
    ws.onopen = () => sendFrame(helloFrame());
    ws.onmessage = (e) => {
      if (ws !== state.ws) return;
      armPing();
      let f;
      try { f = JSON.parse(e.data); } catch { return; }
      if (f && typeof f.type === 'string') onFrame(f);
    };
    ws.onerror = () => { /* onclose follows */ };
    ws.onclose = () => {
      if (ws !== state.ws) return;
      onDown();
    };
  }

  function armPing() {
    clearTimeout(pongTimer);
    clearTimeout(pingTimer);
    pingTimer = setTimeout(() => {
      if (!sendFrame({ type: 'ping' })) return;
      // No answer at all within 10 s: the connection is dead even if the browser has not noticed.
      pongTimer = setTimeout(() => { if (state.ws) try { state.ws.close(); } catch { /* */ } onDown(); }, 10_000);
    }, 25_000);
  }

  function onDown() {
    clearTimeout(pingTimer);
    clearTimeout(pongTimer);
    const ws = state.ws;
    state.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
    }
    state.followed.clear();
    for (const p of state.pending) p.inflight = false;
    state.typing = null;
    typingOut.active = false;
    state.csat.sending = false;
    if (checkUi.sending) {
      // The answer may or may not have arrived: the check as the server has it comes with the
      // conversation after the reconnect.
      checkUi.sending = null;
      clearTimeout(checkUi.timer);
    }
    if (state.conn === 'fatal') return;
    state.conn = 'down';
    state.welcomed = false;
    clearTimeout(bannerTimer);
    state.banner = { kind: 'reconnecting', text: T().reconnecting };
    const base = Math.min(30_000, 1000 * 2 ** Math.min(state.attempt, 5));
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    state.attempt += 1;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => { retryTimer = null; connect(); }, delay);
    render();
  }

  function fail(message) {
    state.conn = 'fatal';
    state.fatal = message;
    clearTimeout(retryTimer);
    clearTimeout(bannerTimer);
    state.banner = { kind: 'error', text: message };
    render();
  }

  // --- Frames from the server -----------------------------------------------------------------

  function onFrame(f) {
    switch (f.type) {
      case 'welcome': return onWelcome(f);
      case 'ack': return onAck(f);
      case 'message': return onMessage(f);
      case 'conversation': return onConversation(f);
      case 'resumed': return onResumed(f);
      case 'typing': return onTyping(f);
      case 'read': return onRead(f);
      case 'rated': return onRated(f);
      case 'error': return onError(f);
      default: return undefined; // pong, and frames of later versions
    }
  }

  function onWelcome(f) {
    const wasDown = state.everReady;
    state.conn = 'ready';
    state.welcomed = true;
    state.everReady = true;
    state.attempt = 0;
    state.verified = !!f.verified;
    state.name = f.name || '';
    const limits = f.limits || {};
    // A new connection starts with a full bucket on the server too (a little slower here).
    sendBucket.burst = limits.send_burst > 0 ? limits.send_burst : 10;
    sendBucket.rate = (limits.sends_per_second > 0 ? limits.sends_per_second : 2) * 0.9;
    sendBucket.tokens = sendBucket.burst;
    sendBucket.at = Date.now();
    for (const c of f.conversations || []) upsertConversation(c);
    state.order = (f.conversations || []).map((c) => c.id).concat(state.order.filter((id) => !(f.conversations || []).some((c) => c.id === id)));
    clearTimeout(bannerTimer);
    if (wasDown && state.banner && state.banner.kind === 'reconnecting') {
      state.banner = { kind: 'connected', text: T().connected };
      bannerTimer = setTimeout(() => { state.banner = null; render(); }, 2500);
    } else {
      state.banner = null;
    }
    // Follow the open chat and the newest ongoing one (for its replies and the unread badge).
    if (state.activeId) follow(state.activeId);
    const ongoing = state.order.map((id) => state.convs.get(id)).find((c) => c && !isEnded(c));
    if (ongoing) follow(ongoing.id);
    for (const id of [...state.convs.keys()]) if (state.msgs.has(id)) follow(id);
    // Opened before the socket said which chats there are: show the ongoing one.
    if (state.open && !state.chosen && !state.activeId && !state.pending.length && !ui.input.value) pickDefaultView();
    flush();
    render();
  }

  function upsertConversation(c) {
    if (!c || !c.id) return null;
    const prev = state.convs.get(c.id);
    const next = { ...(prev || {}), ...c };
    next.seq = Math.max(prev ? prev.seq || 0 : 0, 0);
    next.readSent = prev ? prev.readSent || 0 : 0;
    next.loaded = prev ? prev.loaded : false;
    next.agent_read_seq = Math.max(prev ? prev.agent_read_seq || 0 : 0, c.agent_read_seq || 0);
    if (prev && prev.justRated && c.rating) next.justRated = true;
    state.convs.set(c.id, next);
    if (!state.order.includes(c.id)) state.order.unshift(c.id);
    return next;
  }

  function addMessage(m) {
    if (!m || !m.conversation_id) return false;
    if (!state.convs.has(m.conversation_id)) return false;
    let map = state.msgs.get(m.conversation_id);
    if (!map) {
      map = new Map();
      state.msgs.set(m.conversation_id, map);
    }
    const conv = state.convs.get(m.conversation_id);
    if (m.seq > (conv.seq || 0)) conv.seq = m.seq;
    const known = map.get(m.seq);
    if (known && m.id && known.id === m.id) {
      // The stored copy of one we show (our own, acknowledged): what the shield made of it.
      // The files stay as they are, so that images are not loaded again.
      if (known.body !== m.body || JSON.stringify(known.shield || null) !== JSON.stringify(m.shield || null)) {
        map.set(m.seq, { ...known, body: m.body, shield: m.shield || null });
      }
      return false;
    }
    if ((m.id && state.msgIds.has(m.id)) || map.has(m.seq)) return false;
    map.set(m.seq, m);
    if (m.id) state.msgIds.add(m.id);
    return true;
  }

  function takePending(clientId) {
    const i = state.pending.findIndex((p) => p.client_id === clientId);
    if (i < 0) return null;
    const [p] = state.pending.splice(i, 1);
    saveOutbox();
    return p;
  }

  function onAck(f) {
    const p = takePending(f.client_id);
    if (!state.convs.has(f.conversation_id)) {
      // A new chat: its `conversation` frame follows; keep a placeholder until then.
      upsertConversation({ id: f.conversation_id, number: 0, subject: p ? p.body.slice(0, 80) : '', status: 'open', agent_name: null, rating: null, queue: null });
    }
    const conv = state.convs.get(f.conversation_id);
    if (p) {
      if (!p.conversation_id) {
        // The first message started the chat: what waited for it goes there too, and the
        // socket follows it from now on (the server sends `resumed`).
        state.followed.add(f.conversation_id);
        conv.loaded = true;
        for (const q of state.pending) if (!q.conversation_id) q.conversation_id = f.conversation_id;
        if (state.view === 'chat' && !state.activeId) state.activeId = f.conversation_id;
        saveOutbox();
      }
      const atts = (p.attachments || []).map((a) => ({ ...a }));
      addMessage({
        id: f.message_id, conversation_id: f.conversation_id, seq: f.seq, author_kind: 'customer', author_name: state.name,
        // What the shield made of it, when it changed or noted something.
        body: f.shield ? f.body : p.body, shield: f.shield || null,
        attachments: atts, client_id: p.client_id, created_at: p.created_at,
      });
    } else if (f.seq > (conv.seq || 0) && state.msgs.get(f.conversation_id)?.has(f.seq)) {
      conv.seq = f.seq;
    }
    render();
    flush();
  }


  function onMessage(m) {
    if (m.client_id) {
      // Ours, stored by an earlier attempt or sent from another tab: never shown twice.
      takePending(m.client_id);
    }
    const added = addMessage(m);
    if (added && m.author_kind !== 'customer' && state.typing && state.typing.conversationId === m.conversation_id) {
      clearTimeout(state.typing.timer);
      state.typing = null;
    }
    render();
    flush();
  }

  function onConversation(c) {
    const prev = state.convs.get(c.id);
    const before = prev ? { identity_check: prev.identity_check || null } : null;
    const conv = upsertConversation(c);
    if (!conv) return;
    checkUpdated(before, conv);
    state.order = [c.id, ...state.order.filter((id) => id !== c.id)];
    if (prev && isEnded(prev) && !isEnded(conv)) conv.justRated = false;
    if (c.status !== 'closed' && state.closedOffer && state.activeId === c.id) state.closedOffer = null;
    render();
  }

  function onResumed(f) {
    const conv = state.convs.get(f.conversation_id);
    if (conv) {
      conv.loaded = true;
      if (f.last_seq > (conv.seq || 0)) conv.seq = f.last_seq;
      if (!state.msgs.has(conv.id)) state.msgs.set(conv.id, new Map());
    }
    render();
    flush();
  }

  function onTyping(f) {
    if (state.typing) clearTimeout(state.typing.timer);
    if (f.typing) {
      state.typing = { conversationId: f.conversation_id, name: f.name, timer: setTimeout(() => { state.typing = null; render(); }, 6000) };
    } else {
      state.typing = null;
    }
    render();
  }

  function onRead(f) {
    if (f.reader && f.reader !== 'agent') return;
    const conv = state.convs.get(f.conversation_id);
    if (conv && f.seq > (conv.agent_read_seq || 0)) {
      conv.agent_read_seq = f.seq;
      render();
    }
  }

  function onRated(f) {
    const conv = state.convs.get(f.conversation_id);
    if (conv) {
      conv.rating = { score: f.score, comment: f.comment == null ? null : f.comment };
      conv.justRated = true;
    }
    state.csat.sending = false;
    render();
  }

  function onError(f) {
    const t = T();
    if (!state.welcomed) {
      // Refused at hello: never fall back to another identity on our own.
      if (f.code === 'invalid_signature') return fail(t.invalidIdentity);
      if (f.code === 'identity_expired') return fail(t.identityExpired);
      if (f.code === 'not_found' || f.code === 'validation_failed') return fail(t.unavailable);
      return undefined; // the socket closes; reconnecting follows
    }
    if (isCheckError(f)) return onCheckError(f);
    const p = f.client_id ? state.pending.find((x) => x.client_id === f.client_id) : null;
    switch (f.code) {
      case 'rate_limited': {
        const wait = Math.max(200, Number(f.retry_after_ms) || 1000);
        if (p) {
          p.inflight = false;
          p.retryAt = Date.now() + wait;
        }
        setTimeout(flush, wait + 20);
        if (!p && state.csat.sending) {
          state.csat.sending = false;
          render();
        }
        return undefined;
      }
      case 'conversation_closed': {
        if (p) {
          takePending(p.client_id);
          const texts = [p.body, ...state.pending.filter((q) => q.conversation_id === p.conversation_id).map((q) => takePending(q.client_id)?.body)];
          state.closedOffer = texts.filter(Boolean).join('\n') || ' ';
          const conv = state.convs.get(p.conversation_id);
          if (conv) conv.status = 'closed';
        }
        render();
        return undefined;
      }
      case 'validation_failed': {
        const detail = (f.errors && f.errors.length ? f.errors.map((e) => e.message).join(' ') : '') || f.message || t.tryLater;
        if (p) {
          p.state = 'failed';
          p.inflight = false;
          p.retryable = false;
          p.error = detail;
          saveOutbox();
          if (!p.conversation_id && f.errors && f.errors.some((e) => String(e.field).startsWith('prechat'))) {
            // A pre-chat answer was refused: let the visitor correct it and send again.
            takePending(p.client_id);
            for (const q of state.pending) if (!q.conversation_id && q.state === 'sending') takePending(q.client_id);
            if (p.body) ui.input.value = p.body;
            state.notice = detail;
          }
        } else {
          state.notice = detail;
          state.csat.sending = false;
        }
        render();
        return undefined;
      }
      case 'not_resolved':
        state.csat.sending = false;
        state.notice = f.message || t.tryLater;
        render();
        return undefined;
      case 'not_joined': {
        const m = /conversation (\S+)/.exec(f.message || '');
        const id = m ? m[1] : state.activeId;
        if (id) { state.followed.delete(id); follow(id); }
        return undefined;
      }
      case 'not_found':
        if (p) {
          takePending(p.client_id);
          state.notice = f.message || t.tryLater;
          render();
        }
        return undefined;
      default:
        if (p) {
          // Not stored: send it again later with the same client id.
          p.inflight = false;
          p.retryAt = Date.now() + 3000;
          setTimeout(flush, 3050);
        }
        return undefined;
    }
  }

  // --- The widget's public configuration ------------------------------------------------------

  let configAt = 0;
  async function refreshConfig(force) {
    if (!WIDGET_ID) return;
    if (!force && Date.now() - configAt < 30_000) return;
    configAt = Date.now();
    try {
      const res = await fetch(`${HOST}/api/v1/chat/widget/${encodeURIComponent(WIDGET_ID)}`, { credentials: 'omit', headers: { accept: 'application/json' } });
      if (res.ok) {
        state.config = await res.json();
        render();
      }
    } catch {
      configAt = 0; // try again next time
    }
  }
  setInterval(() => { if (state.open) refreshConfig(true); }, 60_000);

  // --- Start ----------------------------------------------------------------------------------

  const api = {
    version: 1,
    open,
    close,
    identify,
    setLanguage,
    get isOpen() { return state.open; },
    get language() { return lang; },
    /** The host page's fresh sign-in for identity checks: () => Promise<{token}>. */
    get stepUp() { return hooks.stepUp; },
    set stepUp(fn) {
      hooks.stepUp = typeof fn === 'function' ? fn : null;
      render();
    },
  };
  window.KefuChat = api;

  function start() {
    document.body.append(hostEl);
    loadOutbox();
    render();
    refreshConfig(true);
    connect();
    if (preset.open) open();
  }
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });
})();
