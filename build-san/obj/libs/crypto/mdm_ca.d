build-san/obj/libs/crypto/mdm_ca.o: libs/crypto/mdm_ca.c \
 libs/crypto/mdm_ca.h libs/core/mdm_err.h libs/crypto/mdm_b64.h \
 libs/crypto/mdm_cert.h libs/core/mdm_log.h
libs/crypto/mdm_ca.h:
libs/core/mdm_err.h:
libs/crypto/mdm_b64.h:
libs/crypto/mdm_cert.h:
libs/core/mdm_log.h:
