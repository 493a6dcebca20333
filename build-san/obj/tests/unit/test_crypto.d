build-san/obj/tests/unit/test_crypto.o: tests/unit/test_crypto.c \
 libs/crypto/mdm_b64.h libs/core/mdm_err.h libs/crypto/mdm_password.h \
 libs/crypto/mdm_token.h
libs/crypto/mdm_b64.h:
libs/core/mdm_err.h:
libs/crypto/mdm_password.h:
libs/crypto/mdm_token.h:
