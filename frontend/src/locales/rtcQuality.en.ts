// Call quality of remote interviews (SPEC §8, features/rtc), merged into en.ts.
const rtcQualityEn = {
  rtcQuality: {
    title: "Call quality",
    waiting: "Updated every 2 s once the call is up",
    failed: "Quality report failed: {detail}",
    ownReceives: "We receive (customer's media)",
    peerReceives: "Customer receives (agent's media)",
    mos: "MOS",
    grade: "Video grade",
    picture: "Picture",
    network: "Network",
    net: "loss {loss}% · jitter {jitter} ms · RTT {rtt} ms",
    alarm: "Call quality under the minimum: {side}, {what}",
    and: " and ",
    kind: { audio: "audio", video: "video" },
    note: "Minimum (SPEC §8): MOS > {mos}, video grade {grade} or better (320×240 at 15 fps)",
    chartTitle: "Call quality (MOS)",
    noSeries: "This recording has no call-quality data",
    side: { customer: "Customer side received", agent: "Agent side received" },
    summary: "min MOS {min} · mean {mean} · worst video {grade} · under the minimum {below}%",
    minLine: "red dashed line: minimum MOS {mos}",
    serverTitle: "Server view (media Janus received and sent)",
    serverIn: "Server received (the recording's input)",
    serverOut: "Server sent",
    serverInCell: "{kbps} kbit/s · loss {loss}% · jitter {jitter} ms · NACKs {nacks}",
    serverOutCell: "{kbps} kbit/s · loss reported by the party {loss}% · RTT {rtt} ms",
    serverSummary: "audio MOS min {mos} · received median {kbps} kbit/s · worst loss audio {aloss}% / video {vloss}% · worst jitter {jitter} ms · NACKs {nacks}",
    party: { customer: "Customer", agent: "Agent" },
  },
};

export default rtcQualityEn;
