// Remote interviews (features/rtc), merged into en.ts.
const rtcEn = {
  rtc: {
    deskTitle: "Video interview",
    backToTask: "Back to the task",
    join: "Start the video call",
    hangup: "Hang up and build the recording",
    waitingPeer: "Waiting for the other party…",
    finished: "Call ended: the recording is being composed and sent to QC; see the task for the result",
    failed: "Call failed: {detail}",
    customer: "Customer",
    businessNo: "Business no.",
    customerName: "Customer name",
    product: "Product",
    notYet: "Script prompts, node marks, subtitles and risk alerts come in a later version",
    openDesk: "Video interview",
    stats: "Receiving {size} · {fps} fps · audio level {level} · lost {lost}",
    customerTitle: "Video interview",
    customerIntro: "A staff member will handle this business with you by video; the whole call is recorded. Please find a quiet, well-lit place.",
    customerJoin: "Agree and start the video",
    customerEnded: "The video interview has ended. Thank you.",
    states: {
      idle: "Not started",
      connecting: "Connecting…",
      publishing: "Sending video…",
      waiting_peer: "Waiting for the other party…",
      connected: "In call",
      ended: "Ended",
    },
  },
} as const;

export default rtcEn;
