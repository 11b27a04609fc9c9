export const CHAT_SERVE_ARGS: readonly string[] = [];
export function chatCases(): void {}
