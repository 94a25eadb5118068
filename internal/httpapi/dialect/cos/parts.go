package cos

// MinPartSize is COS's smallest multipart part but the last: 1 MB.
func (Dialect) MinPartSize() int64 { return 1 << 20 }
