import { routeTemplate, UNMATCHED_ROUTE } from './http-metrics.middleware';

describe('routeTemplate', () => {
  it('joins the mount point and the matched route template', () => {
    expect(routeTemplate({ baseUrl: '', route: { path: '/api/v1/nodes/:name' } })).toBe('/api/v1/nodes/:name');
    expect(routeTemplate({ baseUrl: '/api/v1', route: { path: '/nodes/:name/power' } })).toBe('/api/v1/nodes/:name/power');
  });

  it('labels requests no route matched as unmatched, never by their URL', () => {
    expect(routeTemplate({ baseUrl: '', route: undefined })).toBe(UNMATCHED_ROUTE);
    // Nest's not-found handler is a catch-all route of its own.
    expect(routeTemplate({ baseUrl: '/api/v1', route: { path: '*path' } })).toBe(UNMATCHED_ROUTE);
    expect(routeTemplate({ baseUrl: '', route: { path: 42 } })).toBe(UNMATCHED_ROUTE);
  });
});
