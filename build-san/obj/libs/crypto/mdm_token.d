build-san/obj/libs/crypto/mdm_token.o: libs/crypto/mdm_token.c \
 libs/crypto/mdm_token.h libs/core/mdm_err.h libs/crypto/mdm_b64.h \
 libs/core/mdm_log.h
libs/crypto/mdm_token.h:
libs/core/mdm_err.h:
libs/crypto/mdm_b64.h:
libs/core/mdm_log.h:
