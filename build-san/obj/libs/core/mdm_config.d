build-san/obj/libs/core/mdm_config.o: libs/core/mdm_config.c \
 libs/core/mdm_config.h libs/core/mdm_err.h
libs/core/mdm_config.h:
libs/core/mdm_err.h:
