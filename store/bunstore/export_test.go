package bunstore

// WithoutPreparedStatements lets the external tests run the conformance
// suite over bun's path for every query.
var WithoutPreparedStatements = withoutPreparedStatements
