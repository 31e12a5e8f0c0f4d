export const bearer = (token: string): string => `Bearer ${token}`;
