import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { beyondThreshold, judgePage, showsTitle } from '../../src/core/updates/health.js';
import { ChromiumScreenshots } from '../../src/runtime/updates/screenshots.js';
import { pixelDifference } from '../../src/runtime/updates/visual-diff.js';

/** A `width`×`height` image of one colour, with `paint` pixels (x, y) in another. */
function image(
  width: number,
  height: number,
  paint: [number, number][] = [],
  colour: [number, number, number] = [255, 255, 255],
): PNG {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i += 1) png.data.set([...colour, 255], i * 4);
  for (const [x, y] of paint) png.data.set([200, 0, 40, 255], (y * width + x) * 4);
  return png;
}

describe('the health of a page after an update', () => {
  const ok = (body: string, status = 200) => ({ status, body });

  it('passes a 200 page that shows the title', () => {
    const health = judgePage('/', ok('<title>My Blog</title><h1>My Blog</h1>'), 'My Blog');
    expect(health).toEqual({ path: '/', status: 200, problem: null, titleShown: true });
  });

  it("finds WordPress's critical-error page, whatever its status", () => {
    const body =
      '<div class="wp-die-message"><p>There has been a critical error on this website.</p></div>';
    expect(judgePage('/', ok(body, 500), null).problem).toBe(
      '/ shows a critical error: There has been a critical error on this website.',
    );
    expect(judgePage('/', ok(body, 200), null).problem).toMatch(/critical error/);
  });

  it("finds PHP's fatal and parse errors as PHP displays them", () => {
    const fatal =
      '<br />\n<b>Fatal error</b>:  Uncaught Error: Call to undefined function nope() in /wp-content/plugins/x/x.php:9';
    expect(judgePage('/', ok(fatal), null).problem).toMatch(
      /^\/ shows a PHP fatal error: Fatal error : Uncaught Error: Call to undefined function nope\(\)/,
    );
    const parse = "PHP Parse error:  syntax error, unexpected '}' in /x.php on line 3";
    expect(judgePage('/', ok(parse), null).problem).toMatch(/^\/ shows a PHP parse error/);
  });

  it('does not take a post that talks about a fatal error for one', () => {
    const post = '<p>Fatal error: the three words every developer fears.</p>';
    expect(judgePage('/', ok(post), null).problem).toBeNull();
  });

  it('fails a page that is not 200, or lost the title', () => {
    expect(judgePage('/wp-login.php', ok('', 404), null).problem).toBe(
      '/wp-login.php answered 404, not 200',
    );
    expect(judgePage('/', ok('<h1>Hello</h1>'), 'My Blog')).toMatchObject({
      titleShown: false,
      problem: '/ no longer shows the site\'s title "My Blog"',
    });
  });

  it('finds the title as WordPress escapes it', () => {
    expect(showsTitle('<title>Tom &amp; Jerry&#8217;s</title>', "Tom & Jerry's")).toBe(true);
    expect(showsTitle('<h1>Tom &amp; Jerry&#039;s</h1>', "Tom & Jerry's")).toBe(true);
    expect(showsTitle('<h1>Tom and Jerry</h1>', "Tom & Jerry's")).toBe(false);
  });
});

describe('the visual difference and its threshold', () => {
  it('is zero for the same picture', () => {
    const result = pixelDifference(image(40, 30), image(40, 30));
    expect(result).toMatchObject({ difference: 0, differing: 0, width: 40, height: 30 });
  });

  it('counts the changed pixels as a fraction of the page', () => {
    const dots: [number, number][] = [
      [1, 1],
      [10, 10],
      [20, 5],
    ];
    const result = pixelDifference(image(40, 25), image(40, 25, dots));
    expect(result.differing).toBe(3);
    expect(result.difference).toBeCloseTo(3 / 1000, 10);
    // The diff image marks them in red.
    const at = (x: number, y: number) => [
      ...result.diff.data.subarray((y * 40 + x) * 4, (y * 40 + x) * 4 + 3),
    ];
    expect(at(10, 10)).toEqual([255, 0, 0]);
    expect(at(0, 0)).not.toEqual([255, 0, 0]);
  });

  it('counts the area a longer page adds as changed', () => {
    const result = pixelDifference(image(10, 10), image(10, 15));
    expect(result).toMatchObject({ width: 10, height: 15, differing: 50 });
    expect(result.difference).toBeCloseTo(50 / 150, 10);
  });

  it('ignores a colour change below what the eye sees', () => {
    const result = pixelDifference(image(10, 10), image(10, 10, [], [254, 254, 254]));
    expect(result.differing).toBe(0);
  });

  it('rolls back only beyond the threshold', () => {
    expect(beyondThreshold(0.01, 0.01)).toBe(false);
    expect(beyondThreshold(0.0101, 0.01)).toBe(true);
    expect(beyondThreshold(0, 0)).toBe(false);
    expect(beyondThreshold(0.000001, 0)).toBe(true);
  });
});

describe('the screenshots without Chromium', () => {
  it('fail with what to install, never pass', async () => {
    const shots = new ChromiumScreenshots({
      dataDir: '/nonexistent',
      executablePath: '/nonexistent/chromium',
      host: () => Promise.resolve('x.localhost'),
      origin: (host) => `http://${host}:8080`,
    });
    await expect(shots.screenshot('id', 'updates/a/b/before.png')).rejects.toThrow(
      'the visual check needs Chromium, and there is none at /nonexistent/chromium: install it (apt-get install chromium) or skip the check (--no-visual-check)',
    );
  });
});
