// Call quality of remote interviews (SPEC §8, features/rtc), merged into zh-CN.ts.
const rtcQualityZh = {
  rtcQuality: {
    title: "通话质量",
    waiting: "通话建立后每 2 秒更新",
    failed: "质量上报失败：{detail}",
    ownReceives: "我方接收（客户音视频）",
    peerReceives: "客户接收（坐席音视频）",
    mos: "MOS",
    grade: "视频等级",
    picture: "画面",
    network: "网络",
    net: "丢包 {loss}% · 抖动 {jitter} ms · 往返 {rtt} ms",
    alarm: "通话质量低于最低要求：{side}的{what}",
    and: "、",
    kind: { audio: "音频", video: "视频" },
    note: "最低要求（SPEC §8）：MOS > {mos}，视频 {grade} 级（320×240、15 帧/秒）及以上",
    chartTitle: "通话质量（MOS）",
    noSeries: "该录像没有通话质量数据",
    side: { customer: "客户端接收", agent: "坐席端接收" },
    summary: "最低 MOS {min} · 平均 {mean} · 最差视频 {grade} · 低于要求 {below}%",
    minLine: "红色虚线：最低 MOS {mos}",
    serverTitle: "服务器视角（Janus 收到与发出的媒体）",
    serverIn: "服务器收到（录制的输入）",
    serverOut: "服务器发出",
    serverInCell: "{kbps} kbit/s · 丢包 {loss}% · 抖动 {jitter} ms · 重传请求 {nacks}",
    serverOutCell: "{kbps} kbit/s · 对方报告丢包 {loss}% · 往返 {rtt} ms",
    serverSummary: "音频 MOS 最低 {mos} · 收到码率中位 {kbps} kbit/s · 最大丢包 音频 {aloss}% / 视频 {vloss}% · 最大抖动 {jitter} ms · 重传请求 {nacks} 次",
    party: { customer: "客户", agent: "坐席" },
  },
};

export default rtcQualityZh;
