"""Transparency-log formats: RFC 9162 Merkle trees and C2SP notes, checkpoints, tiles and proofs."""
