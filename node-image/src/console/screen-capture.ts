/** The screenshot: a screendump (PPM) turned into a PNG, shrunk to `width` when asked. */
import { ScreenUnavailableError } from './host-consoles';
import { decodePpm, encodePng, shrinkToWidth } from './screen-image';

export async function screenPng(screendump: () => Promise<Buffer | undefined>, width: number | undefined): Promise<Buffer> {
  const ppm = await screendump();
  if (ppm === undefined) throw new ScreenUnavailableError('The VM is powered off: it has no screen to show.', 503);
  const image = decodePpm(ppm);
  return encodePng(width === undefined ? image : shrinkToWidth(image, width));
}
