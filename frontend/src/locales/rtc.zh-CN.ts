// Remote interviews (远程双录, features/rtc), merged into zh-CN.ts.
const rtcZh = {
  rtc: {
    deskTitle: "视频面签",
    backToTask: "返回任务",
    join: "开始视频通话",
    hangup: "挂断并生成录像",
    waitingPeer: "等待对方加入…",
    finished: "通话已结束，录像正在合成并送质检，可在任务详情查看结果",
    failed: "通话失败：{detail}",
    customer: "客户信息",
    businessNo: "业务编号",
    customerName: "客户姓名",
    product: "产品",
    notYet: "流程话术提示、打点、字幕与风险提醒将在后续版本提供",
    openDesk: "视频面签",
    stats: "接收 {size} · {fps} 帧/秒 · 音量 {level} · 丢包 {lost}",
    customerTitle: "视频面签",
    customerIntro: "本次业务由工作人员与您视频连线办理，通话全程录音录像。请在光线充足、安静的环境中进行。",
    customerJoin: "同意并开始视频",
    customerEnded: "视频面签已结束，感谢您的配合。",
    states: {
      idle: "未开始",
      connecting: "正在连接…",
      publishing: "正在发送画面…",
      waiting_peer: "等待对方加入…",
      connected: "通话中",
      ended: "已结束",
    },
  },
} as const;

export default rtcZh;
