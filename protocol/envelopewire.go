package protocol

import (
	"fmt"

	"github.com/libp2p/go-libp2p/core/crypto"
	cryptopb "github.com/libp2p/go-libp2p/core/crypto/pb"
	recordpb "github.com/libp2p/go-libp2p/core/record/pb"
	"google.golang.org/protobuf/encoding/protowire"
)

// decodeEnvelope runs steps 2 to 5 of PROTOCOL.md section 3.1 on the
// envelope's protobuf bytes and returns the fields and the signer's key.
//
// Step 2 (ErrMalformed): the bytes are a sequence of protobuf fields;
// unknown field numbers of wire types VARINT, I64, LEN and I32 are
// skipped; groups and invalid wire types are malformed; a known field
// (public_key, payload_type, payload, signature; Type and Data inside
// public_key) has wire type LEN (Type: VARINT) and occurs at most once;
// public_key and both its members are present. A missing payload_type,
// payload or signature is empty and fails a later step. Step 3
// (ErrPayloadType): payload_type is PayloadType. Step 4 (ErrKeyType): Type
// is 1 (Ed25519) and Data is 32 bytes. Step 5 (ErrTooLarge): the payload
// is at most MaxPayloadSize bytes.
//
// A protobuf library would take the last of a repeated field (and merge
// repeated messages), so two readers could verify different payloads;
// protocol v1 refuses repetition instead. The returned message shares
// data's bytes.
func decodeEnvelope(data []byte) (*recordpb.Envelope, crypto.PubKey, error) {
	var env [fieldSignature + 1][]byte
	var seen [fieldSignature + 1]bool
	err := walkFields(data, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case fieldPublicKey, fieldPayloadType, fieldPayload, fieldSignature:
		default:
			return nil
		}
		if typ != protowire.BytesType {
			return fmt.Errorf("field %d has wire type %d, not LEN", num, typ)
		}
		if seen[num] {
			return fmt.Errorf("field %d occurs twice", num)
		}
		seen[num], env[num] = true, v
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: envelope: %v", ErrMalformed, err)
	}
	if !seen[fieldPublicKey] {
		return nil, nil, fmt.Errorf("%w: envelope: public_key is missing", ErrMalformed)
	}
	keyType, keyData, err := decodePublicKey(env[fieldPublicKey])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: envelope: public_key: %v", ErrMalformed, err)
	}
	if string(env[fieldPayloadType]) != PayloadType {
		return nil, nil, fmt.Errorf("%w: %q", ErrPayloadType, truncate(string(env[fieldPayloadType]), 40))
	}
	if keyType != uint64(cryptopb.KeyType_Ed25519) || len(keyData) != 32 {
		return nil, nil, fmt.Errorf("%w: key type %d, %d bytes", ErrKeyType, int64(keyType), len(keyData))
	}
	if n := len(env[fieldPayload]); n > MaxPayloadSize {
		return nil, nil, fmt.Errorf("%w: payload is %d bytes, limit %d", ErrTooLarge, n, MaxPayloadSize)
	}
	key, err := crypto.UnmarshalEd25519PublicKey(keyData)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrKeyType, err)
	}
	msg := &recordpb.Envelope{
		PublicKey:   &cryptopb.PublicKey{Type: cryptopb.KeyType_Ed25519.Enum(), Data: keyData},
		PayloadType: env[fieldPayloadType],
		Payload:     env[fieldPayload],
		Signature:   env[fieldSignature],
	}
	return msg, key, nil
}

// decodePublicKey reads a PublicKey message: Type (VARINT) and Data (LEN),
// each exactly once; unknown fields are skipped.
func decodePublicKey(b []byte) (keyType uint64, keyData []byte, err error) {
	var hasType, hasData bool
	err = walkFields(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch num {
		case fieldKeyType:
			if typ != protowire.VarintType {
				return fmt.Errorf("key type has wire type %d, not VARINT", typ)
			}
			if hasType {
				return fmt.Errorf("key type occurs twice")
			}
			hasType, keyType = true, n
		case fieldKeyData:
			if typ != protowire.BytesType {
				return fmt.Errorf("key data has wire type %d, not LEN", typ)
			}
			if hasData {
				return fmt.Errorf("key data occurs twice")
			}
			hasData, keyData = true, v
		}
		return nil
	})
	switch {
	case err != nil:
		return 0, nil, err
	case !hasType:
		return 0, nil, fmt.Errorf("key type is missing")
	case !hasData:
		return 0, nil, fmt.Errorf("key data is missing")
	}
	return keyType, keyData, nil
}

// walkFields calls f for each field of the protobuf message b: its
// number, wire type and value (v for LEN, n for VARINT). Groups, invalid
// wire types, field number 0 and truncated fields are errors.
func walkFields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
		var v []byte
		var n uint64
		switch typ {
		case protowire.VarintType:
			n, l = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			_, l = protowire.ConsumeFixed64(b)
		case protowire.Fixed32Type:
			_, l = protowire.ConsumeFixed32(b)
		case protowire.BytesType:
			v, l = protowire.ConsumeBytes(b)
		default:
			return fmt.Errorf("field %d has wire type %d (groups and unknown wire types are not allowed)", num, typ)
		}
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
		if err := f(num, typ, v, n); err != nil {
			return err
		}
	}
	return nil
}
