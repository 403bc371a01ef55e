// The call's live analysis on the playback page (features/rtc/LiveRecordPanel.vue), merged into zh-CN.ts.
const rtcPlaybackZh = {
  rtcPlayback: {
    title: "通话实时字幕与风险预警",
    hint: "通话中服务器实时识别的内容（时间为录像时间，点击跳转）；录像质检另有完整逐字稿。",
    noAsr: "通话中语音识别不可用，没有实时字幕。",
    dropped: "服务器负载过高，实时识别跳过了 {n} 段语音。",
    alerts: "风险预警",
    unacked: "{n} 条坐席未处理",
    ackedAt: "坐席 {by} 已于 {time} 确认",
    notAcked: "坐席未确认",
    noAlerts: "通话中没有风险预警。",
    subtitles: "实时字幕",
    noSubtitles: "没有实时字幕。",
  },
};

export default rtcPlaybackZh;
