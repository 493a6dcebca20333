build-san/obj/libs/crypto/mdm_b64.o: libs/crypto/mdm_b64.c \
 libs/crypto/mdm_b64.h libs/core/mdm_log.h
libs/crypto/mdm_b64.h:
libs/core/mdm_log.h:
