/**
 * `parse`, remembering its answers for the strings it was last given: headers that visitors send
 * again and again (Host, Accept-Encoding) are parsed once on the edge's hot path. Forgets all
 * once it holds `limit`, so that a client sending endless variants costs memory only up to that.
 */
export function remembered<T>(parse: (text: string) => T, limit: number): (text: string) => T {
  const known = new Map<string, T>();
  return (text) => {
    let value = known.get(text);
    if (value === undefined) {
      value = parse(text);
      if (known.size >= limit) known.clear();
      known.set(text, value);
    }
    return value;
  };
}
