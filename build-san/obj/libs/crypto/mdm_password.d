build-san/obj/libs/crypto/mdm_password.o: libs/crypto/mdm_password.c \
 libs/crypto/mdm_password.h libs/crypto/mdm_b64.h libs/core/mdm_log.h
libs/crypto/mdm_password.h:
libs/crypto/mdm_b64.h:
libs/core/mdm_log.h:
