export const HTTP_SERVE_ARGS: readonly string[] = [];
export function httpCases(): void {}
