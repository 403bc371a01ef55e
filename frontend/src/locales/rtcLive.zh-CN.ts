// Live subtitles and risk alerts of remote interviews (features/rtc/LiveSubtitles.vue), merged into zh-CN.ts.
const rtcLiveZh = {
  rtcLive: {
    title: "实时字幕与风险预警",
    off: "服务器未开启实时分析（DUALREC_RTC_LIVE_ENABLED）",
    waiting: "通话接通后，服务器识别双方讲话并显示字幕",
    failed: "实时字幕获取失败：{detail}",
    speakers: {
      customer: "客户",
      agent: "坐席",
    },
    alertTitle: "风险预警",
    ack: "已知晓",
    acked: "已确认（{by}）",
    unverified: "身份未核验",
    codes: {
      contradiction: "回答与预期不符",
      sensitive_word: "敏感词",
      no_face: "客户离开画面",
      multiple_faces: "画面中多人",
      not_customer: "非本人",
      covered: "摄像头遮挡",
      dark: "画面过暗",
    },
  },
};

export default rtcLiveZh;
