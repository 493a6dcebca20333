build-san/obj/libs/core/mdm_log.o: libs/core/mdm_log.c \
 libs/core/mdm_log.h
libs/core/mdm_log.h:
