// Live subtitles and risk alerts of remote interviews (features/rtc/LiveSubtitles.vue), merged into en.ts.
const rtcLiveEn = {
  rtcLive: {
    title: "Live subtitles and risk alerts",
    off: "The server does not run the live analysis (DUALREC_RTC_LIVE_ENABLED)",
    waiting: "Once the call is up, the server recognises both sides' speech and shows it here",
    failed: "Live subtitles failed: {detail}",
    speakers: {
      customer: "Customer",
      agent: "Agent",
    },
    alertTitle: "Risk alert",
    ack: "Acknowledge",
    acked: "Acknowledged ({by})",
    unverified: "Identity not verified",
    codes: {
      contradiction: "Answer contradicts the expected one",
      sensitive_word: "Sensitive word",
      no_face: "Customer out of the picture",
      multiple_faces: "Several people",
      not_customer: "Not the customer",
      covered: "Camera covered",
      dark: "Picture too dark",
    },
  },
};

export default rtcLiveEn;
