package checkers

// CheckCoverage runs the coverage checker alone on an analyzed history, as CheckAnalysis does,
// for the benchmarks of package checkers_test.
func CheckCoverage(a *Analysis) *CoverageResult {
	return checkCoverage(a, a.electionTimes())
}
