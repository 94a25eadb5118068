package obs

// MinPartSize is OBS's smallest multipart part but the last: 100 KB.
func (Dialect) MinPartSize() int64 { return 100 << 10 }
