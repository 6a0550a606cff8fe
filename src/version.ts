/** Sent to brokers in ApiVersions (KIP-511) so they can tell clients apart. Kept equal to package.json by a unit test. */
export const SOFTWARE_NAME = 'kafka-producer-ts'
/** This package's version (exported as `VERSION`), also sent to brokers in ApiVersions. */
export const SOFTWARE_VERSION = '0.1.0'
