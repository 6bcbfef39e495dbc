/** Expected outputs kept as files under tests/golden/, written by hand from the spec. */
const DIR = new URL("../golden/", import.meta.url);

export async function golden(name: string): Promise<string> {
  return await Deno.readTextFile(new URL(name, DIR));
}
