package route53

// SetListPageSize shrinks ListResourceRecordSets pages for a test.
func SetListPageSize(n int32) (restore func()) {
	old := listPageSize
	listPageSize = n
	return func() { listPageSize = old }
}
