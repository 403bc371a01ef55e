import { inLanguage } from "@/bilingual";
import { currentLocale } from "@/locales";
import { toProblem, type Problem } from "./problem";

/** A failed API call, carrying the backend's problem body. */
export class ApiError extends Error {
  readonly problem: Problem;
  readonly response: Response | undefined;

  constructor(problem: Problem, response?: Response) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
    this.name = "ApiError";
    this.problem = problem;
    this.response = response;
  }
}

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Awaits an openapi-fetch call and returns its data, or throws ApiError (status 0 = network failure). */
export async function call<T>(request: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await request;
  } catch (cause) {
    throw new ApiError({ status: 0, code: "network_error", detail: String(cause) });
  }
  if (!result.response.ok) {
    throw new ApiError(toProblem(result.error, result.response), result.response);
  }
  return result.data as T;
}

/**
 * The message to show for a failure: the backend's detail first (only the UI language's half of a
 * "中文 / English" message), a generic text otherwise.
 */
export function problemText(
  error: unknown,
  t: (key: string, values?: Record<string, unknown>) => string,
): string {
  if (!(error instanceof ApiError)) return t("common.networkError");
  const { problem } = error;
  if (problem.status === 0) return t("common.networkError");
  const text = problem.detail || problem.title;
  return text ? inLanguage(text, currentLocale()) : t("common.unknownError", { status: problem.status });
}
