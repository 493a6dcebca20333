build-san/obj/tests/unit/test_crypto_pki.o: tests/unit/test_crypto_pki.c \
 libs/crypto/mdm_b64.h libs/crypto/mdm_ca.h libs/core/mdm_err.h \
 libs/crypto/mdm_cert.h libs/crypto/mdm_ca.h libs/crypto/mdm_csr.h \
 libs/crypto/mdm_renew.h
libs/crypto/mdm_b64.h:
libs/crypto/mdm_ca.h:
libs/core/mdm_err.h:
libs/crypto/mdm_cert.h:
libs/crypto/mdm_ca.h:
libs/crypto/mdm_csr.h:
libs/crypto/mdm_renew.h:
