//go:build !cgo

package bench

// cgoBuild: this binary cannot load a PKCS#11 module (no cgo).
const cgoBuild = false
