/**
 * A jest reporter that ends the run with one plain line, `jest: N passed, N failed, N skipped`,
 * and writes the same counts to test-artifacts/jest-summary.json. CI readers (and .ci/run's own
 * closing line) take the test count from it: jest's own summary is not a format they read.
 */
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const summary = {
      passed: results.numPassedTests,
      failed: results.numFailedTests,
      skipped: results.numPendingTests + results.numTodoTests,
      suites: results.numTotalTestSuites,
      failedSuites: results.numFailedTestSuites,
      runtimeErrorSuites: results.numRuntimeErrorTestSuites,
    };
    const dir = path.join(this.rootDir, 'test-artifacts');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'jest-summary.json'), `${JSON.stringify(summary)}\n`);
    // A suite that could not run counts as failed: it ran none of its tests.
    const failed = summary.failed + summary.runtimeErrorSuites;
    process.stdout.write(`jest: ${summary.passed} passed, ${failed} failed, ${summary.skipped} skipped\n`);
  }
}

module.exports = SummaryReporter;
