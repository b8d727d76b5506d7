// For static hosts that cannot send COOP/COEP headers (GitHub Pages and the like): this service
// worker serves the page's own files with those headers added, which makes the page
// cross-origin isolated, so its worker can use SharedArrayBuffer and the threads build
// (zimpute-mt.js). app.js registers it only when the page is not isolated already, and reloads
// once so the page comes under its control. It caches nothing and fetches nothing else.
'use strict';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (new URL(request.url).origin !== self.location.origin) return;  // the page asks for nothing else
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  event.respondWith(fetch(request).then((response) => {
    if (response.status === 0) return response;
    const headers = new Headers(response.headers);
    headers.set('Cross-Origin-Opener-Policy', 'same-origin');
    headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
    headers.set('Cross-Origin-Resource-Policy', 'same-origin');
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }));
});
