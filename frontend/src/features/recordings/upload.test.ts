import { describe, expect, it } from "vitest";
import { uploadForm } from "./upload";

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
});
