package consent

import (
	"crypto/sha256"
	"errors"
	"math/bits"
)

// Merkle tree hashing of RFC 6962 / RFC 9162 section 2.1: a leaf hash is
// SHA-256(0x00 || leaf data), an interior node SHA-256(0x01 || left ||
// right), the tree over n leaves splits at the largest power of two below
// n, and the tree of no leaves hashes to SHA-256 of nothing.

func leafHash(data []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(data)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func nodeHash(l, r [32]byte) [32]byte {
	var b [65]byte
	b[0] = 1
	copy(b[1:], l[:])
	copy(b[33:], r[:])
	return sha256.Sum256(b[:])
}

// split returns the largest power of two smaller than n (n > 1).
func split(n int) int { return 1 << (bits.Len(uint(n-1)) - 1) }

// treeHash returns the root of the tree over the leaf hashes.
func treeHash(leaves [][32]byte) [32]byte {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	k := split(len(leaves))
	return nodeHash(treeHash(leaves[:k]), treeHash(leaves[k:]))
}

// inclusionPath returns the audit path of leaf m (RFC 6962 PATH(m, D[n])).
func inclusionPath(m int, leaves [][32]byte) [][32]byte {
	if len(leaves) <= 1 {
		return nil
	}
	k := split(len(leaves))
	if m < k {
		return append(inclusionPath(m, leaves[:k]), treeHash(leaves[k:]))
	}
	return append(inclusionPath(m-k, leaves[k:]), treeHash(leaves[:k]))
}

var errInclusion = errors.New("inclusion proof does not verify")

// verifyPath checks that leaf, at index of a tree of size leaves, hashes
// with path to root (RFC 9162 section 2.1.3.2).
func verifyPath(index, size uint64, leaf [32]byte, path [][32]byte, root [32]byte) error {
	if index >= size {
		return errInclusion
	}
	fn, sn, r := index, size-1, leaf
	for _, p := range path {
		if sn == 0 {
			return errInclusion
		}
		if fn&1 == 1 || fn == sn {
			r = nodeHash(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = nodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 || r != root {
		return errInclusion
	}
	return nil
}
