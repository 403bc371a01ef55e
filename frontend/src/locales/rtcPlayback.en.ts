// The call's live analysis on the playback page (features/rtc/LiveRecordPanel.vue), merged into en.ts.
const rtcPlaybackEn = {
  rtcPlayback: {
    title: "Live subtitles and risk alerts of the call",
    hint: "What the server recognised during the call (times of the recording; click to seek); QC has the full transcript.",
    noAsr: "Speech recognition was unavailable during the call: no live subtitles.",
    dropped: "Under load the live recogniser skipped {n} speech segments.",
    alerts: "Risk alerts",
    unacked: "{n} not handled by the interviewer",
    ackedAt: "Acknowledged by {by} at {time}",
    notAcked: "Not acknowledged by the interviewer",
    noAlerts: "No risk alerts during the call.",
    subtitles: "Live subtitles",
    noSubtitles: "No live subtitles.",
  },
};

export default rtcPlaybackEn;
