import { describe, expect, it } from "vitest";
import { mergeTasks, type Task, uploadForm } from "./upload";

describe("uploadForm", () => {
  it("sends the task as JSON with trimmed fields and an upper-case ID number", async () => {
    const file = new File(["video"], "clip.mp4", { type: "video/mp4" });
    const form = uploadForm({
      file,
      runningNo: " RN-1 ",
      customerName: "张三",
      idNumber: "11010519491231002x",
      mode: "human",
      idPhoto: null,
    });
    expect(JSON.parse(String(form.get("task")))).toEqual({
      running_no: "RN-1",
      customer_name: "张三",
      id_number: "11010519491231002X",
      mode: "human",
    });
    expect((form.get("file") as File).name).toBe("clip.mp4");
    expect(form.has("id_photo")).toBe(false);
  });

  it("leaves out empty optional fields and attaches the ID photo", () => {
    const photo = new File(["jpg"], "id.jpg", { type: "image/jpeg" });
    const form = uploadForm({
      file: new File(["v"], "a.mp4"),
      runningNo: "RN-2",
      customerName: " ",
      idNumber: "",
      mode: "self_service",
      idPhoto: photo,
    });
    expect(JSON.parse(String(form.get("task")))).toEqual({ running_no: "RN-2", mode: "self_service" });
    expect((form.get("id_photo") as File).name).toBe("id.jpg");
  });

  it("for a task sends its id and only the mode: the task's customer data and flow apply", () => {
    const form = uploadForm({
      file: new File(["v"], "a.mp4"),
      runningNo: "typed but ignored",
      customerName: "李四",
      idNumber: "",
      mode: "human",
      idPhoto: null,
      taskId: "0b7c3c1e-7d59-4a8e-9a52-3d2f0c0e9f11",
      flowCode: "ignored-too",
    });
    expect(form.get("task_id")).toBe("0b7c3c1e-7d59-4a8e-9a52-3d2f0c0e9f11");
    expect(JSON.parse(String(form.get("task")))).toEqual({ mode: "human" });
    expect(form.has("flow_code")).toBe(false);
  });

  it("without a task names the chosen flow", () => {
    const form = uploadForm({
      file: new File(["v"], "a.mp4"),
      runningNo: "RN-3",
      customerName: "",
      idNumber: "",
      mode: "self_service",
      idPhoto: null,
      flowCode: "wm-sale",
    });
    expect(form.get("flow_code")).toBe("wm-sale");
    expect(form.has("task_id")).toBe(false);
  });
});

describe("mergeTasks", () => {
  const task = (id: string, created_at: string) => ({ id, created_at }) as Task;
  it("keeps each task once, newest first", () => {
    const merged = mergeTasks([task("a", "2026-01-01T00:00:00Z"), task("b", "2026-02-01T00:00:00Z")], [task("a", "2026-01-01T00:00:00Z")]);
    expect(merged.map((t) => t.id)).toEqual(["b", "a"]);
  });
});
