package sse

import "github.com/strongroom-dev/strongroom/internal/meta"

// Encryption is meta.Encryption, named here to keep the tests short.
type Encryption meta.Encryption

func (e *Encryption) meta() *meta.Encryption { return (*meta.Encryption)(e) }
