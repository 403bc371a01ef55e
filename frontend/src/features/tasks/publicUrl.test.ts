import { describe, expect, it } from "vitest";
import { isLoopback, linkBase, publicUrlMismatch } from "./publicUrl";

describe("public URL", () => {
  it("takes the origin of a customer link", () => {
    expect(linkBase("http://127.0.0.1:8000/h5/abc.def")).toBe("http://127.0.0.1:8000");
    expect(linkBase("https://dr.bank.example/h5/x")).toBe("https://dr.bank.example");
  });

  it("tells loopback addresses", () => {
    expect(isLoopback("http://127.0.0.1:8000")).toBe(true);
    expect(isLoopback("http://localhost:8000")).toBe(true);
    expect(isLoopback("http://10.0.0.5:8000")).toBe(false);
  });

  it("warns when links point elsewhere than the console", () => {
    expect(publicUrlMismatch("http://127.0.0.1:8000", "http://10.0.0.5:8000")).toBe(true);
    expect(publicUrlMismatch("http://127.0.0.1:8000", "http://127.0.0.1:9000")).toBe(true);
    expect(publicUrlMismatch("https://dr.bank.example", "http://dr.bank.example")).toBe(true);
  });

  it("is quiet when they agree", () => {
    expect(publicUrlMismatch("https://dr.bank.example/", "https://dr.bank.example")).toBe(false);
    expect(publicUrlMismatch("http://127.0.0.1:8000", "http://localhost:8000")).toBe(false);
    expect(publicUrlMismatch("http://127.0.0.1:8000/h5/t", "http://127.0.0.1:8000")).toBe(false);
  });
});
