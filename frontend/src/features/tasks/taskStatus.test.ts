import { describe, expect, it } from "vitest";
import { drawnCodes } from "./taskStatus";

describe("drawnCodes", () => {
  it("lists the codes drawn per node and bank", () => {
    expect(
      drawnCodes([
        { node_id: "qa", bank: "wealth", codes: ["Q1", "Q7"], questions: [] },
        { node_id: "qa2", codes: [] },
      ]),
    ).toEqual(["qa · 理财: Q1, Q7", "qa2: —"]);
  });
});
