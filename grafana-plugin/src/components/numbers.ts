// Number input helpers shared by the editors.

/** parseNumber reads a number input; an empty or unreadable one unsets the option. */
export function parseNumber(text: string): number | undefined {
  if (text.trim() === '') {
    return undefined;
  }
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
