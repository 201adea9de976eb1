/**
 * Where the export API lives: the controller's path and the full paths clients call. The prefix is
 * API_PREFIX of app.factory.ts (not imported: clients should not load the application to build a
 * URL); test/integration/exports.int-spec.ts checks that the two agree.
 */
export const EXPORT_FORMATS = ['metal3', 'ironic', 'maas'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORTS_CONTROLLER_PATH = 'exports';
export const exportPath = (format: ExportFormat): string => `/api/v1/${EXPORTS_CONTROLLER_PATH}/${format}`;
