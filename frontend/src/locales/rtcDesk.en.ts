// The shared desk of remote interviews (document page with highlights, screen share, signature in
// the call; features/rtc), merged into en.ts.
const rtcDeskEn = {
  rtcDesk: {
    title: "Shared with the customer",
    noDocuments: "The task has no documents",
    document: "Document",
    show: "Show to the customer",
    stopShow: "Stop showing",
    page: "Page {n} of {total}",
    prev: "Previous page",
    next: "Next page",
    highlight: "Highlight",
    underline: "Underline",
    clearMarks: "Clear marks",
    markHint: "Drag on the page to mark it; the customer's page shows it",
    customerSees: "The customer's page shows page {n}",
    screen: "Share screen",
    stopScreen: "Stop sharing the screen",
    screenOn: "Sharing the screen (recorded)",
    screenFailed: "The screen could not be shared: {detail}",
    askSign: "Ask the customer to sign",
    askSignAlone: "Ask for the customer's signature",
    cancelSign: "Cancel the signature request",
    waitingSign: "Waiting for the customer's signature…",
    signed: "Signed by the customer",
    customerShared: "Shown by the interviewer",
    customerScreen: "The interviewer's screen",
    signTitle: "Please sign below",
    signDocument: "Signing: {name}",
    signConfirm: "Confirm the signature",
    signClear: "Clear",
    signDone: "Signature sent",
  },
};

export default rtcDeskEn;
