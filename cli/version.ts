import packageJson from './package.json' with { type: 'json' };

/** What `eventrelay --version` prints: cli/package.json's version, inlined by the bundler. */
export const CLI_VERSION: string = packageJson.version;
