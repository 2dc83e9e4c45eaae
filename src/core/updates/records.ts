/** How updates name what they keep, the same for plugin, theme and core updates. */

/** The folder of one update's snapshot and images, relative to the data directory. */
export function updateFolder(installId: string, jobId: string): string {
  return `updates/${installId}/${jobId}`;
}

/** A fraction of pixels as the records and messages write it: `1.00%`. */
export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}
