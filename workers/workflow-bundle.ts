/**
 * What the workflow bundle is built from: the workflows and the workflow interceptors. Every
 * bundle (`npm start`, tests, a worker bundling on its own) uses these, so all of them run the
 * same code and replay each other's histories.
 */
export const WORKFLOW_BUNDLE_OPTIONS = {
  workflowsPath: require.resolve('../workflows'),
  workflowInterceptorModules: [require.resolve('../workflows/interceptors')],
};
