// The shared desk of remote interviews (document page with highlights, screen share, signature in
// the call; features/rtc), merged into zh-CN.ts.
const rtcDeskZh = {
  rtcDesk: {
    title: "共享给客户",
    noDocuments: "该任务没有文件",
    document: "文件",
    show: "展示给客户",
    stopShow: "停止展示",
    page: "第 {n} / {total} 页",
    prev: "上一页",
    next: "下一页",
    highlight: "高亮",
    underline: "下划线",
    clearMarks: "清除标注",
    markHint: "在页面上拖动以标注，客户端同步显示",
    customerSees: "客户已显示：第 {n} 页",
    screen: "共享屏幕",
    stopScreen: "停止共享屏幕",
    screenOn: "屏幕共享中（录制）",
    screenFailed: "无法共享屏幕：{detail}",
    askSign: "请客户签署",
    askSignAlone: "请客户签名",
    cancelSign: "取消签署请求",
    waitingSign: "等待客户签署…",
    signed: "客户已签署",
    customerShared: "工作人员正在展示",
    customerScreen: "工作人员的屏幕",
    signTitle: "请在下方签名",
    signDocument: "签署文件：{name}",
    signConfirm: "确认签名",
    signClear: "重写",
    signDone: "签名已提交",
  },
};

export default rtcDeskZh;
