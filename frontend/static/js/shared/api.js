// The server's REST API (docs/protocol.md): what the page reads before a session exists.

/** GET `url` as JSON; an HTTP error is thrown with the URL and status. */
export async function getJSON(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}
